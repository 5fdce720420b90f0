use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use twinlog_actors::query::parse;
use twinlog_actors::read_model::ReadModel;

use super::token::{Continuation, TokenError, TokenKey};
use super::*;

fn continuation() -> Continuation {
    Continuation {
        query: "SELECT * FROM DIGITALTWINS T WHERE T.name = 'a \"b\" ü'".to_owned(),
        offset: 1_000,
        page_items: 7,
    }
}

#[test]
fn a_sealed_token_opens_to_what_was_sealed() {
    let key = TokenKey::new(rand::random());
    let token = key.seal(&continuation());
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{token}"
    );
    assert_eq!(key.open(&token).unwrap(), continuation());
}

#[test]
fn every_changed_byte_of_a_token_is_refused() {
    let key = TokenKey::new(rand::random());
    let bytes = URL_SAFE_NO_PAD.decode(key.seal(&continuation())).unwrap();
    for at in 0..bytes.len() {
        for bit in 0..8 {
            let mut changed = bytes.clone();
            changed[at] ^= 1 << bit;
            let opened = key.open(&URL_SAFE_NO_PAD.encode(&changed));
            assert!(
                matches!(opened, Err(TokenError::NotIssued { .. })),
                "byte {at} bit {bit}: {opened:?}"
            );
        }
    }
    for cut in 0..bytes.len() {
        let opened = key.open(&URL_SAFE_NO_PAD.encode(&bytes[..cut]));
        assert!(opened.is_err(), "cut at {cut}: {opened:?}");
    }
}

#[test]
fn tokens_of_another_key_and_non_tokens_are_refused() {
    let token = TokenKey::new(rand::random()).seal(&continuation());
    assert!(matches!(
        TokenKey::new(rand::random()).open(&token),
        Err(TokenError::NotIssued { .. })
    ));
    for garbage in ["", "!!!", "a", "eyJx", &format!("{token}=")] {
        assert!(
            TokenKey::new(rand::random()).open(garbage).is_err(),
            "`{garbage}` was accepted"
        );
    }
}

#[test]
fn a_token_refusal_is_bad_request_and_a_query_refusal_is_sql_query_error() {
    let refused = ApiError::from(TokenKey::new(rand::random()).open("!!!").unwrap_err());
    assert_eq!((refused.status.as_u16(), refused.code), (400, "BadRequest"));
    let unparsed = ApiError::from(parse("SELECT * FROM DIGITALTWINS WHERE").unwrap_err());
    assert_eq!(
        (unparsed.status.as_u16(), unparsed.code),
        (400, "SqlQueryError")
    );
    assert!(
        unparsed.message.contains("position 33"),
        "{}",
        unparsed.message
    );
    let not_a_dtmi = parse("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'room')").unwrap();
    let unrun = ApiError::from(ReadModel::new().query(&not_a_dtmi).unwrap_err());
    assert_eq!((unrun.status.as_u16(), unrun.code), (400, "SqlQueryError"));
    assert!(unrun.message.contains("`room`"), "{}", unrun.message);
}

#[test]
fn the_charge_is_one_plus_the_results_or_the_twins_counted() {
    let page = |results: Vec<Value>, total| QueryPage { results, total };
    assert_eq!(charge(false, &page(vec![], 0)), 1);
    // A page is charged for every result of the whole query, not only its own.
    assert_eq!(charge(false, &page(vec![json!({"$dtId": "b"})], 2)), 3);
    assert_eq!(charge(true, &page(vec![json!({"COUNT": 41})], 1)), 42);
}
