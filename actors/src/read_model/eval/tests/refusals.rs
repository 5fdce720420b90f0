//! Queries ADT refuses are refused before they run, as `SqlQueryError`s; the few mistakes only
//! the evaluator can see are refused by it, never answered wrongly.

use super::*;
use crate::query::ast::{Path, Projection, SelectItem};
use crate::query::QueryError;
use crate::read_model::EvalError;

/// Whether an error is the one a case expects.
type Expected = fn(&QueryError) -> bool;

#[test]
fn queries_adt_refuses_are_refused_with_a_reason() {
    let six_joins = "SELECT J5 FROM DIGITALTWINS T JOIN J0 RELATED T.hasPart \
                     JOIN J1 RELATED J0.hasPart JOIN J2 RELATED J1.hasPart \
                     JOIN J3 RELATED J2.hasPart JOIN J4 RELATED J3.hasPart \
                     JOIN J5 RELATED J4.hasPart WHERE T.$dtId = 'b0'";
    let too_long = format!(
        "SELECT * FROM DIGITALTWINS T WHERE T.name = '{}'",
        "x".repeat(8_000)
    );
    let cases: Vec<(&str, Expected)> = vec![
        (
            "SELECT CT FROM DIGITALTWINS T JOIN CT RELATED T.hasPart WHERE CT.levelNumber = 1",
            |e| matches!(e, QueryError::JoinWithoutDtIdFilter { root } if root == "T"),
        ),
        (
            "SELECT CT FROM DIGITALTWINS T JOIN CT RELATED T.hasPart",
            |e| matches!(e, QueryError::JoinWithoutDtIdFilter { .. }),
        ),
        (
            "SELECT * FROM DIGITALTWINS T JOIN CT RELATED T.hasPart WHERE T.$dtId = 'b0'",
            |e| matches!(e, QueryError::SelectAllWithJoin),
        ),
        (six_joins, |e| {
            matches!(
                e,
                QueryError::TooManyJoins {
                    count: 6,
                    joins_max: 5
                }
            )
        }),
        (&too_long, |e| {
            matches!(
                e,
                QueryError::TooLong {
                    chars_max: 8_000,
                    ..
                }
            )
        }),
        (
            "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.name)",
            |e| e.to_string() == "position 53: expected `,`",
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.a, 1)",
            |e| e.to_string() == "position 49: expected `)`",
        ),
    ];
    for (text, expected) in cases {
        let error = query::parse(text).expect_err(text);
        assert!(expected(&error), "{text}: {error:?}");
        assert_eq!((error.code(), error.status()), ("SqlQueryError", 400));
    }
}

#[test]
fn mistakes_only_the_evaluator_sees_are_refused() {
    let model = ReadModel::new();
    let parsed = query::parse(
        "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:digitaltwins:not a dtmi;1')",
    )
    .unwrap();
    assert!(matches!(
        model.query(&parsed),
        Err(EvalError::InvalidModel { .. })
    ));

    // A query built by hand, not parsed, may name an alias it never declares.
    let mut unchecked = query::parse("SELECT T FROM DIGITALTWINS T").unwrap();
    unchecked.select.projection = Projection::Items(vec![SelectItem {
        path: Path {
            alias: Some("X".to_owned()),
            segments: Vec::new(),
        },
        name: None,
    }]);
    assert!(matches!(
        model.query(&unchecked),
        Err(EvalError::UnknownAlias { alias }) if alias == "X"
    ));
}
