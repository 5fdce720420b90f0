//! `JOIN ... RELATED`: rows that follow outgoing relationships from the twins a `$dtId` filter
//! picks, up to five hops, filtered on any alias.

use serde_json::{json, Value};

use super::*;

/// The targets of `from`'s relationships named `name`, with the relationship, in id order.
fn hop<'g>(
    graph: &'g Graph,
    from: &'g str,
    name: &'g str,
) -> impl Iterator<Item = (&'g RelationshipSpec, &'g TwinSpec)> + 'g {
    graph
        .outgoing(from, name)
        .map(|r| (r, graph.twin(&r.target)))
}

#[test]
fn a_join_returns_each_alias_as_adt_renders_it() {
    with_graph(|plane, graph, model| async move {
        let rows = run(
            &model,
            "SELECT T, CT, R FROM DIGITALTWINS T JOIN CT RELATED T.hasPart R \
             WHERE T.$dtId = 'b0'",
        );
        let root = plane.get_twin("b0").await.unwrap().body;
        let mut expected = Vec::new();
        for (r, level) in hop(&graph, "b0", "hasPart") {
            expected.push(json!({
                "T": root,
                "CT": plane.get_twin(&level.id).await.unwrap().body,
                "R": plane.get_relationship("b0", &r.id).await.unwrap().body,
            }));
        }
        assert!(!expected.is_empty());
        assert_eq!(rows, expected);
    });
}

#[test]
fn joins_follow_relationships_and_filter_on_every_alias() {
    type Rows = fn(&Graph) -> Vec<Value>;
    let cases: &[(&str, Rows)] = &[
        (
            "SELECT CT.$dtId, CT.levelNumber FROM DIGITALTWINS T JOIN CT RELATED T.hasPart \
             WHERE T.$dtId IN ['b1', 'b0'] AND CT.levelNumber >= 1",
            |g| {
                ["b0", "b1"]
                    .iter()
                    .flat_map(|b| hop(g, b, "hasPart"))
                    .filter(|(_, l)| l.level_number.is_some_and(|n| n >= 1))
                    .map(|(_, l)| json!({"$dtId": l.id, "levelNumber": l.level_number}))
                    .collect()
            },
        ),
        (
            "SELECT L.$dtId AS level, RM.$dtId AS room FROM DIGITALTWINS B \
             JOIN L RELATED B.hasPart JOIN RM RELATED L.hasPart \
             WHERE B.$dtId = 'b1' AND IS_OF_MODEL(RM, 'dtmi:digitaltwins:rec_3_3:core:Room;1', exact)",
            |g| {
                let mut rows = Vec::new();
                for (_, l) in hop(g, "b1", "hasPart") {
                    for (_, rm) in hop(g, &l.id, "hasPart").filter(|(_, rm)| rm.model == ROOM) {
                        rows.push(json!({"level": l.id, "room": rm.id}));
                    }
                }
                rows
            },
        ),
        (
            "SELECT RM.$dtId, S.lastValue FROM DIGITALTWINS B JOIN L RELATED B.hasPart \
             JOIN RM RELATED L.hasPart JOIN S RELATED RM.hasCapability \
             WHERE B.$dtId = 'b0' AND (RM.personCapacity > 6 OR S.lastValue = 18) \
             AND IS_OF_MODEL(RM, 'dtmi:digitaltwins:rec_3_3:core:Room;1')",
            |g| {
                let mut rows = Vec::new();
                for (_, l) in hop(g, "b0", "hasPart") {
                    for (_, rm) in hop(g, &l.id, "hasPart") {
                        for (_, s) in hop(g, &rm.id, "hasCapability") {
                            let held = rm.capacity.is_some_and(|c| c > 6)
                                || s.last_value == Some(18.0);
                            if held && rm.is_of(ROOM, false) {
                                let mut row = json!({"$dtId": rm.id});
                                if let Some(value) = s.last_value {
                                    row["lastValue"] = json!(value);
                                }
                                rows.push(row);
                            }
                        }
                    }
                }
                rows
            },
        ),
        (
            "SELECT T2.$dtId, R.substance FROM DIGITALTWINS T JOIN T2 RELATED T.feeds R \
             WHERE T.$dtId = 'e0' AND R.substance = 'Water'",
            |g| {
                hop(g, "e0", "feeds")
                    .filter(|(r, _)| r.substance == Some("Water"))
                    .map(|(r, t)| json!({"$dtId": t.id, "substance": r.substance}))
                    .collect()
            },
        ),
        (
            // Five hops: to a level, back to its building, to each of its levels, their
            // rooms, and the rooms' sensors.
            "SELECT L.$dtId AS first, L2.$dtId AS level, S.$dtId AS sensor FROM DIGITALTWINS B \
             JOIN L RELATED B.hasPart JOIN B2 RELATED L.isPartOf JOIN L2 RELATED B2.hasPart \
             JOIN RM RELATED L2.hasPart JOIN S RELATED RM.hasCapability \
             WHERE B.$dtId = 'b0' AND L.levelNumber = 0 AND S.lastValue < 19",
            |g| {
                let mut rows = Vec::new();
                for (_, l) in hop(g, "b0", "hasPart").filter(|(_, l)| l.level_number == Some(0)) {
                    for (_, b2) in hop(g, &l.id, "isPartOf") {
                        for (_, l2) in hop(g, &b2.id, "hasPart") {
                            for (_, rm) in hop(g, &l2.id, "hasPart") {
                                for (_, s) in hop(g, &rm.id, "hasCapability") {
                                    if s.last_value.is_some_and(|v| v < 19.0) {
                                        rows.push(json!({
                                            "first": l.id, "level": l2.id, "sensor": s.id
                                        }));
                                    }
                                }
                            }
                        }
                    }
                }
                rows
            },
        ),
        (
            "SELECT TOP(3) RM.$dtId FROM DIGITALTWINS L JOIN RM RELATED L.hasPart \
             WHERE L.$dtId IN ['b1-l0', 'b0-l2']",
            |g| {
                ["b0-l2", "b1-l0"]
                    .iter()
                    .flat_map(|l| hop(g, l, "hasPart"))
                    .take(3)
                    .map(|(_, rm)| json!({"$dtId": rm.id}))
                    .collect()
            },
        ),
        (
            "SELECT COUNT() FROM DIGITALTWINS B JOIN L RELATED B.hasPart \
             JOIN RM RELATED L.hasPart WHERE B.$dtId IN ['b0', 'b1'] AND RM.area.grossArea > 20",
            |g| {
                let count = ["b0", "b1"]
                    .iter()
                    .flat_map(|b| hop(g, b, "hasPart"))
                    .flat_map(|(_, l)| hop(g, &l.id, "hasPart"))
                    .filter(|(_, rm)| rm.gross_area.is_some_and(|a| a > 20.0))
                    .count();
                vec![json!({ "COUNT": count })]
            },
        ),
        (
            "SELECT CT FROM DIGITALTWINS T JOIN CT RELATED T.hasPart WHERE T.$dtId = 'nobody'",
            |_| Vec::new(),
        ),
        (
            // A relationship name the twin does not use.
            "SELECT CT FROM DIGITALTWINS T JOIN CT RELATED T.feeds WHERE T.$dtId = 'b0'",
            |_| Vec::new(),
        ),
    ];
    with_graph(|_plane, graph, model| async move {
        for (text, expected) in cases {
            let expected = expected(&graph);
            assert_eq!(run(&model, text), expected, "{text}");
        }
    });
}
