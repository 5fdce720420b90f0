use super::*;

fn header<'a>(lsn: u64, twin_id: &'a str, payload: &'a [u8]) -> RecordHeader<'a> {
    RecordHeader {
        lsn,
        epoch: 1,
        twin_id,
        twin_version: 1,
        prev_twin_lsn: 0,
        time_ms: 1_700_000_000_000,
        payload,
    }
}

#[test]
fn encoded_record_decodes_to_the_same_header_and_follows_its_predecessor() {
    let payload = Event::Telemetry {
        message_id: "m1".into(),
        source_time: None,
        component: None,
        data: r#"{"t":21.5}"#.into(),
    }
    .encode();
    let (bytes, hash) = header(7, "pump-1", &payload).encode(&GENESIS_HASH);
    let record = Record::decode(7, &bytes).unwrap();
    assert_eq!(record.header, header(7, "pump-1", &payload));
    assert_eq!(record.hash, hash);
    assert!(record.follows(&GENESIS_HASH));
    assert!(!record.follows(&[1; 32]));
    assert_eq!(record.event().unwrap().kind(), "Telemetry");
}

#[test]
fn every_flipped_bit_is_caught_by_the_checksum_or_the_envelope_check() {
    let (bytes, _) = header(3, "t", b"\x00\x01").encode(&GENESIS_HASH);
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[byte] ^= 1 << bit;
            let error = Record::decode(3, &damaged).unwrap_err();
            assert_eq!(error.lsn(), 3);
            assert!(
                matches!(
                    error,
                    RecordError::Checksum { .. } | RecordError::UnknownEnvelope { .. }
                ),
                "byte {byte} bit {bit}: {error}"
            );
        }
    }
}

#[test]
fn a_record_stored_under_the_wrong_lsn_is_refused() {
    let (bytes, _) = header(3, "t", b"").encode(&GENESIS_HASH);
    assert!(matches!(
        Record::decode(4, &bytes),
        Err(RecordError::LsnMismatch {
            lsn: 4,
            body_lsn: 3
        })
    ));
}

#[test]
fn truncated_and_unknown_envelopes_are_named() {
    assert!(matches!(
        Record::decode(9, &[1, 2, 3]),
        Err(RecordError::Truncated { lsn: 9, len: 3 })
    ));
    let (mut bytes, _) = header(9, "t", b"").encode(&GENESIS_HASH);
    bytes[0] = 200;
    let error = Record::decode(9, &bytes).unwrap_err();
    assert_eq!(error.to_string(), "LSN 9: unknown envelope version 200");
}

#[test]
fn a_checksum_valid_record_with_a_rewritten_body_breaks_the_chain() {
    let (bytes, _) = header(1, "t", b"a").encode(&GENESIS_HASH);
    let original = Record::decode(1, &bytes).unwrap();
    // Rewrite the body but keep the original hash, then fix up the checksum: only the chain notices.
    let (forged, _) = header(1, "t", b"b").encode(&GENESIS_HASH);
    let mut tampered = forged.clone();
    tampered[HASH_AT..BODY_AT].copy_from_slice(&original.hash);
    let crc = crc32fast::hash(&tampered[HASH_AT..]);
    tampered[CRC_AT..HASH_AT].copy_from_slice(&crc.to_le_bytes());
    let record = Record::decode(1, &tampered).unwrap();
    assert!(matches!(
        record.check_chain(&GENESIS_HASH),
        Err(RecordError::ChainBroken { lsn: 1 })
    ));
}
