//! Proves that `twinlog audit verify` and `twinlog export` read damaged, foreign and locked files
//! with a clear error naming the file (and the first bad LSN where one applies), exit 1, and never
//! panic or hang, and that verify never modifies what it reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use redb::{Database, ReadableTable};
use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_migrations::format::{EVENTS, META, TWIN_HEADS};
use twinlog_migrations::{Event, Record, RecordHeader, TwinHead, GENESIS_HASH};

const BIN: &str = env!("CARGO_BIN_EXE_twinlog");

fn twinlog(args: &[&str], dir: &Path) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "twinlog {args:?} hung on {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A cleanly closed log of 30 telemetry events over 3 twins, with a heads checkpoint at LSN 20.
fn good_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        checkpoint_interval_events: 20,
        ..LogOptions::new("test")
    };
    let log = EventLog::open(dir.path(), options).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for n in 0..30u64 {
        let event = Event::Telemetry {
            message_id: format!("m{n}"),
            source_time: None,
            component: None,
            data: format!(r#"{{"n":{n}}}"#),
        };
        rt.block_on(log.append(vec![NewEvent::new(
            Arc::from(format!("t{}", n % 3)),
            &event,
        )]))
        .unwrap();
    }
    dir
}

fn log_file(dir: &Path) -> PathBuf {
    dir.join("events.redb")
}

/// Rewrites the stored bytes of record `lsn` (or deletes it) through redb itself, as a bug or a
/// tamperer would, so that only twinlog's own checks can notice.
fn rewrite_record(dir: &Path, lsn: u64, change: impl FnOnce(Vec<u8>) -> Option<Vec<u8>>) {
    let db = Database::open(log_file(dir)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(EVENTS).unwrap();
        let bytes = table.get(lsn).unwrap().unwrap().value().to_vec();
        match change(bytes) {
            Some(bytes) => table.insert(lsn, bytes.as_slice()).unwrap(),
            None => table.remove(lsn).unwrap(),
        };
    }
    txn.commit().unwrap();
}

fn assert_fails_naming(out: &Output, dir: &Path, lsn: Option<u64>, reason: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains(&dir.display().to_string()),
        "no file named in: {err}"
    );
    if let Some(lsn) = lsn {
        assert!(
            err.contains(&format!("first bad LSN: {lsn}")),
            "no LSN {lsn} in: {err}"
        );
    }
    assert!(err.contains(reason), "no `{reason}` in: {err}");
}

#[test]
fn a_whole_log_verifies_and_verify_does_not_modify_it() {
    let dir = good_log();
    let before = std::fs::read(log_file(dir.path())).unwrap();
    let out = twinlog(&["audit", "verify"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "ok: 30 records, last LSN 30, epoch 1, 3 twins, heads checkpoint at LSN 20"
        ),
        "{stdout}"
    );
    assert_eq!(std::fs::read(log_file(dir.path())).unwrap(), before);
}

#[test]
fn a_flipped_byte_in_a_record_is_a_checksum_error_at_its_lsn() {
    let dir = good_log();
    rewrite_record(dir.path(), 17, |mut bytes| {
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        Some(bytes)
    });
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(&out, dir.path(), Some(17), "LSN 17: checksum mismatch");
    let out = twinlog(&["export"], dir.path());
    assert_fails_naming(&out, dir.path(), None, "LSN 17: checksum mismatch");
}

#[test]
fn a_rewritten_record_with_a_valid_checksum_breaks_the_hash_chain() {
    let dir = good_log();
    let payload = Event::Telemetry {
        message_id: "forged".into(),
        source_time: None,
        component: None,
        data: "{}".into(),
    }
    .encode();
    rewrite_record(dir.path(), 12, |bytes| {
        let original = Record::decode(12, &bytes).unwrap();
        // A well-formed record chained from the wrong predecessor: its checksum holds.
        let forged = RecordHeader {
            payload: &payload,
            ..original.header.clone()
        };
        Some(forged.encode(&GENESIS_HASH).0)
    });
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(&out, dir.path(), Some(12), "LSN 12: hash chain broken");
}

#[test]
fn a_missing_record_is_a_gap_at_its_lsn() {
    let dir = good_log();
    rewrite_record(dir.path(), 9, |_| None);
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(
        &out,
        dir.path(),
        Some(9),
        "LSN 9 is missing (the next stored record is LSN 10)",
    );
}

#[test]
fn a_decreasing_epoch_is_named() {
    let dir = good_log();
    let db = Database::open(log_file(dir.path())).unwrap();
    let txn = db.begin_write().unwrap();
    {
        // Re-chain the whole log with epoch 2 up to LSN 4 and epoch 1 after it, and raise the
        // log's epoch to 2: every checksum and link holds, only the epoch order is wrong.
        let mut table = txn.open_table(EVENTS).unwrap();
        let mut prev = GENESIS_HASH;
        for lsn in 1..=30u64 {
            let bytes = table.get(lsn).unwrap().unwrap().value().to_vec();
            let record = Record::decode(lsn, &bytes).unwrap();
            let header = RecordHeader {
                epoch: if lsn <= 4 { 2 } else { 1 },
                ..record.header.clone()
            };
            let (rewritten, hash) = header.encode(&prev);
            prev = hash;
            table.insert(lsn, rewritten.as_slice()).unwrap();
        }
        let mut meta = txn.open_table(META).unwrap();
        meta.insert("epoch", &2u64.to_le_bytes()[..]).unwrap();
    }
    txn.commit().unwrap();
    drop(db);
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(
        &out,
        dir.path(),
        Some(5),
        "LSN 5: epoch 1 is lower than the previous record's 2",
    );
}

#[test]
fn a_heads_checkpoint_that_disagrees_with_the_log_is_named() {
    let dir = good_log();
    let db = Database::open(log_file(dir.path())).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(TWIN_HEADS)
        .unwrap()
        .insert(
            "t1",
            TwinHead {
                version: 99,
                lsn: 3,
            }
            .encode()
            .as_slice(),
        )
        .unwrap();
    txn.commit().unwrap();
    drop(db);
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(
        &out,
        dir.path(),
        None,
        "derived data disagrees with the log at checkpoint LSN 20: twin `t1` is checkpointed at version 99",
    );
}

#[test]
fn a_newer_format_version_is_refused_by_name() {
    let dir = good_log();
    let db = Database::open(log_file(dir.path())).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(META)
        .unwrap()
        .insert("format_version", &2u32.to_le_bytes()[..])
        .unwrap();
    txn.commit().unwrap();
    drop(db);
    for command in [&["audit", "verify"][..], &["export"][..]] {
        let out = twinlog(command, dir.path());
        assert_fails_naming(
            &out,
            dir.path(),
            None,
            "format version 2 is newer than this build reads (up to 1)",
        );
    }
}

#[test]
fn files_that_are_not_twinlog_logs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        log_file(dir.path()),
        b"this is not a database at all, just some text",
    )
    .unwrap();
    let out = twinlog(&["audit", "verify"], dir.path());
    assert_fails_naming(&out, dir.path(), None, "not a twinlog log");

    let other = tempfile::tempdir().unwrap();
    let db = Database::create(log_file(other.path())).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(EVENTS).unwrap();
    txn.commit().unwrap();
    drop(db);
    let out = twinlog(&["export"], other.path());
    assert_fails_naming(
        &out,
        other.path(),
        None,
        "not a twinlog log: it has no `meta` table",
    );
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let out = twinlog(&["audit", "verify"], &missing);
    assert_fails_naming(&out, &missing, None, "no such log file");
}

#[test]
fn a_log_held_by_a_running_writer_is_reported_as_locked() {
    let dir = good_log();
    let _running = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    for command in [&["audit", "verify"][..], &["export"][..]] {
        let out = twinlog(command, dir.path());
        assert_fails_naming(
            &out,
            dir.path(),
            None,
            "in use by a running twinlog process",
        );
    }
}

#[test]
fn random_damage_anywhere_in_the_file_never_crashes_verify() {
    let dir = good_log();
    let original = std::fs::read(log_file(dir.path())).unwrap();
    let mut rng = rand::rng();
    let damaged = tempfile::tempdir().unwrap();
    for _ in 0..40 {
        let mut bytes = original.clone();
        for _ in 0..rng.random_range(1..8) {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = rng.random();
        }
        std::fs::write(log_file(damaged.path()), &bytes).unwrap();
        for command in [&["audit", "verify"][..], &["export"][..]] {
            let out = twinlog(command, damaged.path());
            // Damage in unused pages is harmless (exit 0); anything else is a clear exit 1.
            let code = out.status.code();
            assert!(
                code == Some(0) || code == Some(1),
                "{command:?} exited {code:?}: {}",
                stderr(&out)
            );
            if code == Some(1) {
                assert!(stderr(&out).contains("events.redb"), "{}", stderr(&out));
            }
        }
    }
}

#[test]
fn a_file_left_by_kill_9_is_verified_through_a_private_copy_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["debug", "append-load", "--producers", "8", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.starts_with("ack "), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
    let before = std::fs::read(log_file(dir.path())).unwrap();
    let out = twinlog(&["audit", "verify"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was not closed cleanly; verified a repaired private copy"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(log_file(dir.path())).unwrap(),
        before,
        "verify modified the file"
    );
}
