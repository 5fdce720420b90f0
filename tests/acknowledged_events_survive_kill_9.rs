//! Proves that an acknowledged append survives SIGKILL: a real `twinlog` process appends from many
//! concurrent producers and reports each acknowledged LSN; the test kills it at random moments,
//! restarts it on the same directory, and checks the log after every round.
//!
//! Rounds: 20 by default; `TWINLOG_KILL_ROUNDS` sets more for a longer run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod server;

use rand::Rng;
use server::{export, BIN};

/// What an acknowledgement promised: (twin version, round, producer, seq) at an LSN.
type Acked = HashMap<u64, (u64, u64, u64, u64)>;

fn spawn_load(dir: &Path, round: u64) -> Child {
    Command::new(BIN)
        .args([
            "debug",
            "append-load",
            "--producers",
            "48",
            "--twins",
            "12",
            "--round",
        ])
        .arg(round.to_string())
        .arg("--dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start twinlog debug append-load")
}

/// Reads acknowledgements until `run_for` has passed since the first one, then SIGKILLs the
/// process.
fn run_and_kill(mut child: Child, run_for: Duration, acked: &mut Acked) {
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // Startup, including recovery of the previous round's crash, is not part of the random delay.
    let first = received
        .recv_timeout(Duration::from_secs(60))
        .expect("no acknowledgement within 60 s of start");
    record_ack(&first, acked);
    let deadline = Instant::now() + run_for;
    while Instant::now() < deadline {
        if let Ok(line) = received.recv_timeout(Duration::from_millis(5)) {
            record_ack(&line, acked);
        }
    }
    // SIGKILL: no destructor, no flush, no chance to finish the batch in flight.
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    // Lines already in the pipe were acknowledged before the kill: they count too.
    reader.join().unwrap();
    while let Ok(line) = received.try_recv() {
        record_ack(&line, acked);
    }
}

fn record_ack(line: &str, acked: &mut Acked) {
    let fields: Vec<u64> = line
        .strip_prefix("ack ")
        .unwrap_or_else(|| panic!("unexpected output line {line:?}"))
        .split(' ')
        .map(|f| f.parse().unwrap())
        .collect();
    let [lsn, version, round, producer, seq] = fields[..] else {
        panic!("unexpected output line {line:?}")
    };
    assert!(
        acked.insert(lsn, (version, round, producer, seq)).is_none(),
        "LSN {lsn} acknowledged twice"
    );
}

fn check_log(dir: &Path, acked: &Acked, rounds_done: u64) {
    let verify = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "audit verify failed: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let log = export(dir);
    // A gap-free prefix: LSNs 1..=n, and each producer's events of each round form a prefix of its
    // sequence (0, 1, 2, …) with nothing skipped, duplicated or reordered.
    let mut next_seq: HashMap<(u64, u64), u64> = HashMap::new();
    let mut twin_versions: HashMap<String, u64> = HashMap::new();
    for (i, line) in log.iter().enumerate() {
        let lsn = line["lsn"].as_u64().unwrap();
        assert_eq!(lsn, i as u64 + 1, "LSNs are not contiguous");
        let data = &line["data"];
        let (round, producer, seq) = (
            data["round"].as_u64().unwrap(),
            data["producer"].as_u64().unwrap(),
            data["seq"].as_u64().unwrap(),
        );
        assert!(
            round < rounds_done,
            "LSN {lsn} is from round {round}, which has not run"
        );
        let expected_seq = next_seq.entry((round, producer)).or_insert(0);
        assert_eq!(
            seq, *expected_seq,
            "LSN {lsn}: producer {producer} of round {round} out of order"
        );
        *expected_seq += 1;
        let twin = line["twin"].as_str().unwrap().to_owned();
        let version = twin_versions.entry(twin).or_insert(0);
        *version += 1;
        assert_eq!(
            line["version"].as_u64().unwrap(),
            *version,
            "LSN {lsn}: twin version"
        );
    }
    // Every acknowledged LSN is present with exactly the content that was acknowledged.
    for (&lsn, &(version, round, producer, seq)) in acked {
        let line = log.get(lsn as usize - 1).unwrap_or_else(|| {
            panic!(
                "acknowledged LSN {lsn} is missing; the log ends at {}",
                log.len()
            )
        });
        assert_eq!(line["version"].as_u64(), Some(version), "LSN {lsn}");
        assert_eq!(line["twin"], format!("twin-{}", producer % 12), "LSN {lsn}");
        assert_eq!(
            line["messageId"],
            format!("r{round}-p{producer}-s{seq}"),
            "LSN {lsn}"
        );
        assert_eq!(
            line["data"],
            serde_json::json!({"round": round, "producer": producer, "seq": seq}),
            "LSN {lsn}"
        );
    }
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let rounds: u64 = std::env::var("TWINLOG_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let mut acked = Acked::new();
    let mut rng = rand::rng();
    for round in 0..rounds {
        let child = spawn_load(dir.path(), round);
        run_and_kill(
            child,
            Duration::from_millis(rng.random_range(100..600)),
            &mut acked,
        );
        check_log(dir.path(), &acked, round + 1);
    }
    assert!(
        acked.len() as u64 >= rounds,
        "too few acknowledgements to prove anything"
    );
}
