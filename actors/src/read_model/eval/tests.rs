//! Each query runs on a read model built from hand-made events; its expected results are
//! computed in the test from the same twin specifications, by plain Rust over the fields.

use serde_json::{json, Value};
use twinlog_migrations::Event;

use super::super::tests::{models, MEETING_ROOM, ROOM, SENSOR};
use super::*;
use crate::query;

/// One twin as the test sees it.
struct Spec {
    id: String,
    model: &'static str,
    area: Option<f64>,
    reading: Option<f64>,
    name: Option<String>,
}

impl Spec {
    fn is_room(&self) -> bool {
        // MeetingRoom extends Room: written out here, not asked of the registry.
        self.model == ROOM || self.model == MEETING_ROOM
    }

    fn document(&self) -> Value {
        let mut document = json!({"$metadata": {"$model": self.model}});
        let fields = [
            ("area", self.area.map(Value::from)),
            ("reading", self.reading.map(Value::from)),
            ("name", self.name.clone().map(Value::from)),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                document[field] = value;
            }
        }
        document
    }
}

/// 24 twins, a third of each model; some rooms lack `area` and some lack `name`.
fn specs() -> Vec<Spec> {
    (0..24)
        .map(|i| {
            let model = [SENSOR, ROOM, MEETING_ROOM][i % 3];
            let room = model != SENSOR;
            Spec {
                id: format!("twin-{i:02}"),
                model,
                area: (room && i % 4 != 0).then_some(10.0 + i as f64),
                reading: (!room).then_some(i as f64 * 0.5),
                name: (room && i % 2 == 0).then(|| format!("name-{}", i % 5)),
            }
        })
        .collect()
}

/// The specs' twins, plus `gone`, a sensor created and deleted, through `apply` in LSN order.
fn read_model(specs: &[Spec]) -> ReadModel {
    let uploaded = models()
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    let gone = Spec {
        id: "gone".to_owned(),
        model: SENSOR,
        area: None,
        reading: Some(1.0),
        name: None,
    };
    let mut records = vec![(
        "$models".to_owned(),
        Event::ModelsUploaded {
            at_ms: 1,
            models: uploaded,
        },
    )];
    for spec in specs.iter().chain([&gone]) {
        let document = spec.document().to_string();
        records.push((spec.id.clone(), Event::TwinReplaced { at_ms: 2, document }));
    }
    records.push(("gone".to_owned(), Event::TwinDeleted { at_ms: 3 }));
    let mut model = ReadModel::new();
    for (lsn, (twin_id, event)) in (1..).zip(&records) {
        model.apply(lsn, twin_id, event).unwrap();
    }
    model
}

fn run(model: &ReadModel, text: &str) -> Vec<Value> {
    let parsed = query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    model
        .query(&parsed)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn ids(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|result| result["$dtId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn filters_select_exactly_the_twins_they_describe() {
    type Expected = fn(&Spec) -> bool;
    let cases: &[(&str, Expected)] = &[
        ("SELECT * FROM DIGITALTWINS", |_| true),
        ("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'twin-05'", |s| {
            s.id == "twin-05"
        }),
        (
            "SELECT * FROM DIGITALTWINS WHERE $dtId IN ['twin-01', 'gone', 'twin-07', 'nobody']",
            |s| s.id == "twin-01" || s.id == "twin-07",
        ),
        (
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:Room;1')",
            Spec::is_room,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:example:Room;1', exact)",
            |s| s.model == ROOM,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:example:Room;1') AND T.area > 20",
            |s| s.is_room() && s.area.is_some_and(|a| a > 20.0),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.area >= 30 OR T.reading < 2",
            |s| s.area.is_some_and(|a| a >= 30.0) || s.reading.is_some_and(|r| r < 2.0),
        ),
        ("SELECT * FROM DIGITALTWINS T WHERE NOT (T.area > 20)", |s| {
            s.area.is_some_and(|a| a <= 20.0)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.area != 20", |s| {
            s.area.is_some_and(|a| a != 20.0)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.name = 'name-2'", |s| {
            s.name.as_deref() == Some("name-2")
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.name < 'name-2'", |s| {
            s.name.as_deref().is_some_and(|n| n < "name-2")
        }),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.$metadata.$model = 'dtmi:example:Sensor;1'",
            |s| s.model == SENSOR,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.reading NIN [0, 1.5, 3]",
            |s| s.reading.is_some_and(|r| ![0.0, 1.5, 3.0].contains(&r)),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE NOT IS_OF_MODEL(T, 'dtmi:example:Sensor;1') \
             AND (T.area < 15 OR T.name = 'name-0')",
            |s| {
                s.model != SENSOR
                    && (s.area.is_some_and(|a| a < 15.0) || s.name.as_deref() == Some("name-0"))
            },
        ),
        // Values of different types are neither equal nor unequal: undefined, never true.
        ("SELECT * FROM DIGITALTWINS T WHERE T.area = 'x'", |_| false),
        ("SELECT * FROM DIGITALTWINS T WHERE T.area != 'x'", |_| false),
        ("SELECT * FROM DIGITALTWINS T WHERE NOT (T.area > 'x')", |_| false),
    ];
    let specs = specs();
    let model = read_model(&specs);
    for (text, expected) in cases {
        let expected: Vec<String> = specs
            .iter()
            .filter(|s| expected(s))
            .map(|s| s.id.clone())
            .collect();
        assert_eq!(ids(&run(&model, text)), expected, "{text}");
    }
}

#[test]
fn select_star_returns_the_twin_documents() {
    let specs = specs();
    let model = read_model(&specs);
    let results = run(&model, "SELECT * FROM DIGITALTWINS WHERE $dtId = 'twin-04'");
    let expected = model.twin("twin-04").unwrap().twin_document().unwrap();
    assert_eq!(results, [expected]);
}

#[test]
fn count_top_and_projections_shape_the_results() {
    let specs = specs();
    let model = read_model(&specs);
    let rooms: Vec<&Spec> = specs.iter().filter(|s| s.is_room()).collect();

    let counted = run(
        &model,
        "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:Room;1')",
    );
    assert_eq!(counted, [json!({"COUNT": rooms.len()})]);
    assert_eq!(
        run(&model, "SELECT COUNT() FROM DIGITALTWINS"),
        [json!({"COUNT": specs.len()})]
    );

    let top = run(&model, "SELECT TOP(3) * FROM DIGITALTWINS");
    let first: Vec<String> = specs.iter().take(3).map(|s| s.id.clone()).collect();
    assert_eq!(ids(&top), first);

    let projected = run(
        &model,
        "SELECT T.$dtId, T.area AS size FROM DIGITALTWINS T \
         WHERE IS_OF_MODEL(T, 'dtmi:example:Room;1')",
    );
    // A twin without `area` has no `size`: the item is left out, not null.
    let expected: Vec<Value> = rooms
        .iter()
        .map(|s| match s.area {
            Some(area) => json!({"$dtId": s.id, "size": area}),
            None => json!({"$dtId": s.id}),
        })
        .collect();
    assert_eq!(projected, expected);
}

#[test]
fn unsupported_constructs_and_invalid_models_are_refused() {
    let model = read_model(&specs());
    let refused = |text: &str| model.query(&query::parse(text).unwrap()).unwrap_err();
    for text in [
        "SELECT * FROM RELATIONSHIPS",
        "SELECT T, C FROM DIGITALTWINS T JOIN C RELATED T.hasSensor WHERE T.$dtId = 'twin-01'",
        "SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.area)",
    ] {
        assert!(
            matches!(refused(text), EvalError::Unsupported { .. }),
            "{text}"
        );
    }
    assert!(matches!(
        refused("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('not a dtmi')"),
        EvalError::InvalidModel { .. }
    ));
}
