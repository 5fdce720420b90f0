//! `FROM DIGITALTWINS` without JOIN: every condition, and every shape of result.

use serde_json::{json, Value};

use super::*;

type Expected = fn(&TwinSpec) -> bool;

fn is_room(t: &TwinSpec) -> bool {
    t.is_of(ROOM, false)
}

#[test]
fn each_condition_selects_exactly_the_twins_it_describes() {
    let cases: &[(&str, Expected)] = &[
        ("SELECT * FROM DIGITALTWINS", |_| true),
        ("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'b0-l1'", |t| {
            t.id == "b0-l1"
        }),
        (
            "SELECT * FROM DIGITALTWINS WHERE $dtId IN ['b1', 'e2', 'nobody', 'b1']",
            |t| t.id == "b1" || t.id == "e2",
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.$dtId NIN ['b0', 'b1'] AND IS_OF_MODEL(T, \
             'dtmi:digitaltwins:rec_3_3:core:Space;1')",
            |t| t.is_of(SPACE, false) && t.id != "b0" && t.id != "b1",
        ),
        (
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Room;1')",
            is_room,
        ),
        (
            "SELECT * FROM DIGITALTWINS T \
             WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1', exact)",
            |t| t.model == ROOM,
        ),
        (
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Capability;1')",
            |t| t.model == TEMPERATURE_SENSOR,
        ),
        (
            "SELECT * FROM DIGITALTWINS T \
             WHERE T.$metadata.$model = 'dtmi:digitaltwins:rec_3_3:building:Office;1'",
            |t| t.model == OFFICE,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1') \
             AND T.personCapacity > 5",
            |t| is_room(t) && t.capacity.is_some_and(|c| c > 5),
        ),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity >= 6", |t| {
            t.capacity.is_some_and(|c| c >= 6)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity < 4", |t| {
            t.capacity.is_some_and(|c| c < 4)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity <= 4", |t| {
            t.capacity.is_some_and(|c| c <= 4)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity = 7", |t| {
            t.capacity == Some(7)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity != 7", |t| {
            t.capacity.is_some_and(|c| c != 7)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.area.grossArea > 30", |t| {
            t.gross_area.is_some_and(|a| a > 30.0)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.customTags.quiet = true", |t| {
            t.quiet == Some(true)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.lastValue <= 19.5", |t| {
            t.last_value.is_some_and(|v| v <= 19.5)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.name = 'Room 05'", |t| {
            t.name.as_deref() == Some("Room 05")
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE T.name > 'Room 20'", |t| {
            t.name.as_deref().is_some_and(|n| n > "Room 20")
        }),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.levelNumber IN [0, 2]",
            |t| t.level_number.is_some_and(|l| l == 0 || l == 2),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.lastValue NIN [18, 19.5]",
            |t| t.last_value.is_some_and(|v| v != 18.0 && v != 19.5),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.personCapacity < 4 OR T.lastValue > 20",
            |t| t.capacity.is_some_and(|c| c < 4) || t.last_value.is_some_and(|v| v > 20.0),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE NOT (T.personCapacity > 4)",
            |t| t.capacity.is_some_and(|c| c <= 4),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Space;1') \
             AND (T.personCapacity < 4 OR NOT T.customTags.quiet = false) AND T.area.grossArea >= 17.5",
            |t| {
                t.is_of(SPACE, false)
                    && (t.capacity.is_some_and(|c| c < 4) || t.quiet == Some(true))
                    && t.gross_area.is_some_and(|a| a >= 17.5)
            },
        ),
        // Values of different types, or missing ones, are neither equal nor unequal.
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity = '7'", |_| false),
        ("SELECT * FROM DIGITALTWINS T WHERE T.personCapacity != '7'", |_| false),
        (
            "SELECT * FROM DIGITALTWINS T WHERE NOT (T.name > 5)",
            |_| false,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE T.personCapacity IN ['7', 8]",
            |t| t.capacity == Some(8),
        ),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.name)", |t| {
            t.name.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.name)", |t| {
            t.name.is_none()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.area.grossArea)", |t| {
            t.gross_area.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_BOOL(T.customTags.quiet)", |t| {
            t.quiet.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.personCapacity)", |t| {
            t.capacity.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_STRING(T.personCapacity)", |_| false),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_STRING(T.name)", |t| {
            t.name.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_NULL(T.name)", |_| false),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_PRIMITIVE(T.lastValue)", |t| {
            t.last_value.is_some()
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_PRIMITIVE(T.customTags)", |_| {
            false
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE IS_OBJECT(T.customTags)", |t| {
            t.quiet.is_some()
        }),
        // Every space has the component `area`, set or not.
        ("SELECT * FROM DIGITALTWINS T WHERE IS_OBJECT(T.area)", |t| {
            t.is_of(SPACE, false)
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.name, 'Level')", |t| {
            t.name.as_deref().is_some_and(|n| n.starts_with("Level"))
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.name, '1')", |t| {
            t.name.as_deref().is_some_and(|n| n.ends_with('1'))
        }),
        ("SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.$dtId, '-l2-')", |t| {
            t.id.contains("-l2-")
        }),
        // A string test of a number is undefined, so its negation is too.
        (
            "SELECT * FROM DIGITALTWINS T WHERE NOT STARTSWITH(T.personCapacity, '1')",
            |_| false,
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.tags, 'quiet')",
            |t| t.tags.as_ref().is_some_and(|tags| tags.contains(&"quiet")),
        ),
        (
            "SELECT * FROM DIGITALTWINS T WHERE NOT ARRAY_CONTAINS(T.tags, 'quiet')",
            |t| t.tags.as_ref().is_some_and(|tags| !tags.contains(&"quiet")),
        ),
    ];
    with_graph(|_plane, graph, model| async move {
        for (text, expected) in cases {
            let expected: Vec<&str> = graph
                .twins
                .iter()
                .filter(|t| expected(t))
                .map(|t| t.id.as_str())
                .collect();
            assert_eq!(strings(&run(&model, text), "$dtId"), expected, "{text}");
        }
    });
}

#[test]
fn results_have_adts_shapes() {
    with_graph(|plane, graph, model| async move {
        let rooms: Vec<&TwinSpec> = graph.twins.iter().filter(|t| is_room(t)).collect();

        // `SELECT *` gives the documents the data plane serves.
        let documents = run(
            &model,
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Room;1')",
        );
        let mut served = Vec::new();
        for room in &rooms {
            served.push(plane.get_twin(&room.id).await.unwrap().body);
        }
        assert_eq!(documents, served);

        // An alias gives `{alias: document}`.
        let aliased = run(
            &model,
            "SELECT T FROM DIGITALTWINS T WHERE T.$dtId = 'b1-l2'",
        );
        let served = plane.get_twin("b1-l2").await.unwrap().body;
        assert_eq!(aliased, [json!({ "T": served })]);

        // Projections: a missing property is left out, not null; AS renames; a component
        // property is keyed by its own name.
        let projected = run(
            &model,
            "SELECT T.$dtId, T.name AS title, T.area.grossArea, T.$metadata.$model \
             FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1')",
        );
        let expected: Vec<Value> = rooms
            .iter()
            .map(|t| {
                let mut row = json!({"$dtId": t.id, "$model": t.model});
                if let Some(name) = &t.name {
                    row["title"] = json!(name);
                }
                if let Some(area) = t.gross_area {
                    row["grossArea"] = json!(area);
                }
                row
            })
            .collect();
        assert_eq!(projected, expected);

        // A whole component, with its rendered metadata.
        let component = run(
            &model,
            "SELECT T.area FROM DIGITALTWINS T WHERE T.$dtId = 'b0-l0-r0'",
        );
        let served = plane.get_twin("b0-l0-r0").await.unwrap().body;
        assert_eq!(component, [json!({"area": served["area"]})]);

        let count = |text: &str| run(&model, text)[0]["COUNT"].as_u64().unwrap() as usize;
        assert_eq!(count("SELECT COUNT() FROM DIGITALTWINS"), graph.twins.len());
        assert_eq!(
            count(
                "SELECT COUNT() FROM DIGITALTWINS \
                 WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Room;1')"
            ),
            rooms.len()
        );
        assert_eq!(
            count(
                "SELECT COUNT() FROM DIGITALTWINS T \
                 WHERE IS_OF_MODEL('dtmi:digitaltwins:rec_3_3:core:Room;1') AND T.personCapacity > 5"
            ),
            rooms
                .iter()
                .filter(|t| t.capacity.is_some_and(|c| c > 5))
                .count()
        );
        assert_eq!(
            count("SELECT COUNT() FROM DIGITALTWINS WHERE $dtId IN ['b0', 'nobody', 'e1']"),
            2
        );
        // TOP limits results, not what COUNT counts.
        assert_eq!(
            count("SELECT TOP(1) COUNT() FROM DIGITALTWINS"),
            graph.twins.len()
        );

        let top = run(
            &model,
            "SELECT TOP(5) T.$dtId FROM DIGITALTWINS T WHERE T.personCapacity > 3",
        );
        let first: Vec<&str> = graph
            .twins
            .iter()
            .filter(|t| t.capacity.is_some_and(|c| c > 3))
            .take(5)
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(strings(&top, "$dtId"), first);
        assert!(run(&model, "SELECT TOP(0) * FROM DIGITALTWINS").is_empty());
    });
}

#[test]
fn the_followed_read_model_answers_with_each_new_commit() {
    use std::time::{Duration, Instant};

    use crate::read_model::ReadModelFollower;

    const CATCH_UP_WAIT_MAX: Duration = Duration::from_secs(5);
    with_graph(|plane, graph, model| async move {
        let follower = ReadModelFollower::start(plane.log(), model).unwrap();
        let caught_up = || {
            let head_lsn = plane.log().head().lsn;
            let started = Instant::now();
            while follower.model().lsn() < head_lsn {
                assert!(started.elapsed() < CATCH_UP_WAIT_MAX, "follower behind");
                std::thread::sleep(Duration::from_millis(1));
            }
            follower.model().read(ReadModel::clone).unwrap()
        };
        let query = "SELECT T.$dtId FROM DIGITALTWINS T \
                     WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1') \
                     AND T.personCapacity > 5";
        let expected = |graph: &Graph| -> Vec<String> {
            graph
                .twins
                .iter()
                .filter(|t| is_room(t) && t.capacity.is_some_and(|c| c > 5))
                .map(|t| t.id.clone())
                .collect()
        };
        assert_eq!(
            strings(&run(&caught_up(), query), "$dtId"),
            expected(&graph)
        );

        // A room that grows, one that loses its capacity, and one that goes (with its
        // relationships).
        let mut graph = graph;
        let grown = graph
            .twins
            .iter()
            .position(|t| is_room(t) && t.capacity.is_some_and(|c| c <= 5))
            .unwrap();
        let patch = json!([{"op": "add", "path": "/personCapacity", "value": 9}]);
        plane
            .patch_twin(&graph.twins[grown].id, patch, None)
            .await
            .unwrap();
        graph.twins[grown].capacity = Some(9);
        let emptied = graph
            .twins
            .iter()
            .position(|t| is_room(t) && t.capacity.is_some_and(|c| c > 5))
            .unwrap();
        let patch = json!([{"op": "remove", "path": "/personCapacity"}]);
        plane
            .patch_twin(&graph.twins[emptied].id, patch, None)
            .await
            .unwrap();
        graph.twins[emptied].capacity = None;
        let gone = graph
            .twins
            .iter()
            .position(|t| is_room(t) && t.capacity.is_some_and(|c| c > 5))
            .unwrap();
        let gone_id = graph.twins[gone].id.clone();
        for relationship in graph.relationships.iter().filter(|r| r.source == gone_id) {
            plane
                .delete_relationship(&gone_id, &relationship.id, None)
                .await
                .unwrap();
        }
        for relationship in graph.relationships.iter().filter(|r| r.target == gone_id) {
            plane
                .delete_relationship(&relationship.source, &relationship.id, None)
                .await
                .unwrap();
        }
        plane.delete_twin(&gone_id, None).await.unwrap();
        graph.twins.remove(gone);
        graph
            .relationships
            .retain(|r| r.source != gone_id && r.target != gone_id);

        let model = caught_up();
        assert_eq!(strings(&run(&model, query), "$dtId"), expected(&graph));
        assert_eq!(
            run(&model, "SELECT COUNT() FROM RELATIONSHIPS"),
            [json!({"COUNT": graph.relationships.len()})]
        );
    });
}
