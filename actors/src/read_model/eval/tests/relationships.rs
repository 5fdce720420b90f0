//! `FROM RELATIONSHIPS`: relationship documents, found by source, by target, or by any field.

use serde_json::{json, Value};

use super::*;

type Expected = fn(&RelationshipSpec) -> bool;

/// Each result's (source, relationship id).
fn keys(results: &[Value]) -> Vec<(String, String)> {
    strings(results, "$sourceId")
        .into_iter()
        .zip(strings(results, "$relationshipId"))
        .collect()
}

#[test]
fn each_condition_selects_exactly_the_relationships_it_describes() {
    let cases: &[(&str, Expected)] = &[
        ("SELECT * FROM RELATIONSHIPS", |_| true),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE R.$sourceId = 'b0-l1'",
            |r| r.source == "b0-l1",
        ),
        ("SELECT * FROM RELATIONSHIPS WHERE $targetId = 'b0'", |r| {
            r.target == "b0"
        }),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE R.$targetId IN ['e2', 'b1', 'nobody']",
            |r| r.target == "b1" || r.target == "e2",
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE R.$sourceId = 'b0' AND R.$targetId = 'b0-l2'",
            |r| r.source == "b0" && r.target == "b0-l2",
        ),
        (
            "SELECT * FROM RELATIONSHIPS R \
             WHERE R.$sourceId IN ['e0', 'e1'] AND R.substance = 'Water'",
            |r| (r.source == "e0" || r.source == "e1") && r.substance == Some("Water"),
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipName = 'hasCapability'",
            |r| r.name == "hasCapability",
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE R.substance != 'Water'",
            |r| r.substance.is_some_and(|s| s != "Water"),
        ),
        (
            "SELECT * FROM RELATIONSHIPS R \
             WHERE R.$relationshipName = 'feeds' AND NOT IS_DEFINED(R.substance)",
            |r| r.name == "feeds" && r.substance.is_none(),
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE STARTSWITH(R.$relationshipId, 'isPartOf')",
            |r| r.id.starts_with("isPartOf"),
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE ENDSWITH(R.$targetId, '-t') OR R.$sourceId = 'e3'",
            |r| r.target.ends_with("-t") || r.source == "e3",
        ),
        // A relationship's ETag is a string; `$dtId` is a twin's, so undefined here.
        (
            "SELECT * FROM RELATIONSHIPS R WHERE IS_STRING(R.$etag)",
            |_| true,
        ),
        (
            "SELECT * FROM RELATIONSHIPS R WHERE IS_DEFINED(R.$dtId)",
            |_| false,
        ),
    ];
    with_graph(|_plane, graph, model| async move {
        for (text, expected) in cases {
            let expected: Vec<(String, String)> = graph
                .relationships
                .iter()
                .filter(|r| expected(r))
                .map(|r| (r.source.clone(), r.id.clone()))
                .collect();
            assert_eq!(keys(&run(&model, text)), expected, "{text}");
        }
    });
}

#[test]
fn relationship_results_have_adts_shapes() {
    with_graph(|plane, graph, model| async move {
        let documents = run(&model, "SELECT * FROM RELATIONSHIPS");
        let mut served = Vec::new();
        for r in &graph.relationships {
            served.push(plane.get_relationship(&r.source, &r.id).await.unwrap().body);
        }
        assert_eq!(documents, served);

        let aliased = run(
            &model,
            "SELECT R FROM RELATIONSHIPS R WHERE R.$sourceId = 'e0'",
        );
        let expected: Vec<Value> = documents
            .iter()
            .filter(|document| document["$sourceId"] == "e0")
            .map(|document| json!({ "R": document }))
            .collect();
        assert_eq!(aliased, expected);

        let projected = run(
            &model,
            "SELECT R.$targetId AS target, R.substance FROM RELATIONSHIPS R \
             WHERE R.$relationshipName = 'feeds'",
        );
        let expected: Vec<Value> = graph
            .relationships
            .iter()
            .filter(|r| r.name == "feeds")
            .map(|r| match r.substance {
                Some(substance) => json!({"target": r.target, "substance": substance}),
                None => json!({"target": r.target}),
            })
            .collect();
        assert_eq!(projected, expected);

        let counts: [(&str, Expected); 3] = [
            ("SELECT COUNT() FROM RELATIONSHIPS", |_| true),
            (
                "SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$relationshipName = 'hasPart'",
                |r| r.name == "hasPart",
            ),
            (
                "SELECT COUNT() FROM RELATIONSHIPS R WHERE R.$targetId = 'b1'",
                |r| r.target == "b1",
            ),
        ];
        for (text, counted) in counts {
            let count = graph.relationships.iter().filter(|r| counted(r)).count();
            assert_eq!(run(&model, text), [json!({ "COUNT": count })], "{text}");
        }
    });
}
