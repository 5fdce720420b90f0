//! Queries that visit every candidate sweep the stream list in its own order, which is the order
//! twins were first written, not `$dtId` order. Over many leaves of that list, with twins written
//! in an order unlike their ids and some deleted, their results are still exactly the twins
//! they describe, in `$dtId` order, and pages cut from them neither skip nor repeat one.

use serde_json::json;

use super::*;
use crate::query;

/// More than the stream list holds in a handful of its 64-entry leaves.
const TWINS: usize = 300;
/// A stride coprime to `TWINS`, so that the `i`-th twin written has an id far from its order.
const STRIDE: usize = 7;

/// The `i`-th twin written: id, model and `personCapacity`.
fn spec(i: usize) -> (String, &'static str, i64) {
    let id = format!("t{:03}", (i * STRIDE) % TWINS);
    let model = [ROOM, OFFICE, LEVEL][i % 3];
    (id, model, (i % 13) as i64)
}

/// Whether the `i`-th twin is deleted after all are written.
fn deleted(i: usize) -> bool {
    i % 9 == 4
}

#[test]
fn scans_in_stream_order_give_each_result_once_in_id_order() {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        let twins = (0..TWINS)
            .map(spec)
            .map(|(id, model, capacity)| TwinSpec {
                id,
                model,
                capacity: (model != LEVEL).then_some(capacity),
                ..TwinSpec::default()
            })
            .collect();
        let graph = Graph {
            twins,
            relationships: Vec::new(),
        };
        create(&plane, &graph).await;
        for i in (0..TWINS).filter(|i| deleted(*i)) {
            plane.delete_twin(&spec(i).0, None).await.unwrap();
        }
        let model = ReadModel::rebuild(plane.log()).unwrap();

        let mut live: Vec<(String, &str, i64)> =
            (0..TWINS).filter(|i| !deleted(*i)).map(spec).collect();
        live.sort();
        let ids = |keep: &dyn Fn(&str, i64) -> bool| -> Vec<String> {
            live.iter()
                .filter(|(_, model, capacity)| keep(model, *capacity))
                .map(|(id, ..)| id.clone())
                .collect()
        };
        let has_capacity = |model: &str| model != LEVEL;
        let cases: [(&str, Vec<String>); 3] = [
            (
                "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.personCapacity > 6",
                ids(&|model, capacity| has_capacity(model) && capacity > 6),
            ),
            (
                "SELECT T.$dtId FROM DIGITALTWINS T \
                 WHERE IS_OF_MODEL(T, 'dtmi:digitaltwins:rec_3_3:core:Room;1') \
                 AND T.personCapacity <= 6",
                ids(&|model, capacity| has_capacity(model) && capacity <= 6),
            ),
            (
                "SELECT T.$dtId FROM DIGITALTWINS T WHERE NOT IS_DEFINED(T.personCapacity)",
                ids(&|model, _| !has_capacity(model)),
            ),
        ];
        for (text, expected) in cases {
            assert!(
                expected.len() > 64,
                "{text}: too few results to span leaves"
            );
            assert_eq!(strings(&run(&model, text), "$dtId"), expected, "{text}");
            let counted = text.replace("T.$dtId", "COUNT()");
            let parsed = query::parse(&counted).unwrap();
            let count = &model.query(&parsed).unwrap()[0]["COUNT"];
            assert_eq!(count, &json!(expected.len()), "{counted}");
        }
    });
}
