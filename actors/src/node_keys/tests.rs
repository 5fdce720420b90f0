use twinlog_migrations::node_keys::{NODE_KEYS, QUERY_TOKEN_KEY};

use super::{load_or_create, NodeKeyError};
use crate::log::tests::runtime;
use crate::log::{EventLog, LogOptions, SideOp};

#[test]
fn a_key_is_drawn_once_and_outlives_the_process_that_drew_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let load = |log: &EventLog, name: &'static str, candidate: [u8; 32]| {
        rt.block_on(load_or_create(log, name, candidate)).unwrap()
    };
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    assert_eq!(load(&log, QUERY_TOKEN_KEY, [1; 32]), [1; 32]);
    assert_eq!(
        load(&log, QUERY_TOKEN_KEY, [2; 32]),
        [1; 32],
        "a stored key is never replaced"
    );
    drop(log);

    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    assert_eq!(load(&log, QUERY_TOKEN_KEY, [3; 32]), [1; 32]);
    assert_eq!(
        load(&log, "another", [4; 32]),
        [4; 32],
        "each name has its own key"
    );
}

#[test]
fn a_key_of_the_wrong_length_is_named_with_its_file_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = EventLog::open(dir.path(), LogOptions::new("test")).unwrap();
    rt.block_on(log.write_side(vec![SideOp::Put {
        table: NODE_KEYS,
        key: QUERY_TOKEN_KEY.as_bytes().to_vec(),
        value: vec![7; 5],
    }]))
    .unwrap();
    let refused = rt
        .block_on(load_or_create(&log, QUERY_TOKEN_KEY, [1; 32]))
        .unwrap_err();
    assert!(
        matches!(refused, NodeKeyError::Damaged { bytes: 5, .. }),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(message.contains("events.redb"), "{message}");
    assert!(message.contains("node_keys"), "{message}");
    assert!(message.contains(QUERY_TOKEN_KEY), "{message}");
}
