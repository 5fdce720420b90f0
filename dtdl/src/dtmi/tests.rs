use super::*;

#[test]
fn v2_requires_a_single_integer_version() {
    assert!(Dtmi::parse("dtmi:com:example:Room;1", DtdlVersion::V2).is_ok());
    assert!(Dtmi::parse("dtmi:com:example:Room;999999999", DtdlVersion::V2).is_ok());
    assert_eq!(
        Dtmi::parse("dtmi:com:example:Room", DtdlVersion::V2),
        Err(DtmiError::MissingVersion)
    );
    for bad in ["1.2", "0", "01", "1000000000", "", "a"] {
        let text = format!("dtmi:com:example:Room;{bad}");
        assert!(
            matches!(
                Dtmi::parse(&text, DtdlVersion::V2),
                Err(DtmiError::Version { .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn v3_accepts_minor_versions_and_no_version() {
    for good in [
        "dtmi:com:example:Room;1",
        "dtmi:com:example:Room;1.2",
        "dtmi:com:example:Room;3.0",
        "dtmi:com:example:Room",
    ] {
        assert!(Dtmi::parse(good, DtdlVersion::V3).is_ok(), "{good}");
    }
    for bad in [
        "dtmi:a;1.",
        "dtmi:a;.1",
        "dtmi:a;1.01",
        "dtmi:a;1.2.3",
        "dtmi:a;1.1234567",
    ] {
        assert!(
            matches!(
                Dtmi::parse(bad, DtdlVersion::V3),
                Err(DtmiError::Version { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn segments_are_letters_digits_and_underscores_with_rules_at_the_edges() {
    for good in ["dtmi:a;1", "dtmi:a_b:c2;1", "dtmi:A1:b_2;1", "dtmi:_x;1"] {
        assert!(Dtmi::parse(good, DtdlVersion::V2).is_ok(), "{good}");
    }
    for (bad, segment) in [
        ("dtmi:2a;1", "2a"),
        ("dtmi:a_;1", "a_"),
        ("dtmi:a::b;1", ""),
        ("dtmi:a-b;1", "a-b"),
        ("dtmi:;1", ""),
        ("dtmi:a:b c;1", "b c"),
    ] {
        assert_eq!(
            Dtmi::parse(bad, DtdlVersion::V2),
            Err(DtmiError::Segment {
                segment: segment.to_owned()
            }),
            "{bad}"
        );
    }
    assert_eq!(
        Dtmi::parse("urn:a;1", DtdlVersion::V2),
        Err(DtmiError::Scheme)
    );
}

#[test]
fn length_is_capped_at_2048_characters() {
    let at_limit = format!("dtmi:{};1", "a".repeat(DTMI_CHARS_MAX - 7));
    assert_eq!(at_limit.len(), DTMI_CHARS_MAX);
    assert!(Dtmi::parse(&at_limit, DtdlVersion::V2).is_ok());
    let over = format!("dtmi:{};1", "a".repeat(DTMI_CHARS_MAX - 6));
    assert_eq!(
        Dtmi::parse(&over, DtdlVersion::V2),
        Err(DtmiError::TooLong {
            chars: DTMI_CHARS_MAX + 1,
            max: DTMI_CHARS_MAX
        })
    );
}

#[test]
fn reserved_prefixes_are_recognised() {
    let reserved: Dtmi = "dtmi:dtdl:context;3".parse().expect("valid");
    assert!(reserved.is_reserved());
    let standard: Dtmi = "dtmi:standard:schema:point;3".parse().expect("valid");
    assert!(standard.is_reserved());
    let user: Dtmi = "dtmi:dtdlish:x;1".parse().expect("valid");
    assert!(!user.is_reserved());
}

#[test]
fn child_identifiers_keep_the_version() {
    let parent: Dtmi = "dtmi:com:example:Room;2".parse().expect("valid");
    assert_eq!(
        parent.child("contents_3").as_str(),
        "dtmi:com:example:Room:_contents_3;2"
    );
    let unversioned: Dtmi = "dtmi:com:example:Room".parse().expect("valid");
    assert_eq!(
        unversioned.child("extends_0").as_str(),
        "dtmi:com:example:Room:_extends_0"
    );
}

#[test]
fn serde_round_trips_and_refuses_invalid_text() {
    let dtmi: Dtmi = serde_json::from_str("\"dtmi:a:b;1\"").expect("valid");
    assert_eq!(
        serde_json::to_string(&dtmi).expect("serialises"),
        "\"dtmi:a:b;1\""
    );
    assert!(serde_json::from_str::<Dtmi>("\"dtmi:1a;1\"").is_err());
}
