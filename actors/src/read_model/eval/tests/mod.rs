//! Queries over a RealEstateCore graph built through the data plane, so that the read model is
//! fed committed records as in production: two buildings, their levels, rooms of four models,
//! a temperature sensor per room, and equipment that feeds other equipment.
//!
//! Every expected result is computed in the test from the graph's own specification (the
//! twins and relationships it created), by plain Rust over their fields; model inheritance is
//! written out by hand from the ontology, not asked of the registry.

mod joins;
mod refusals;
mod relationships;
mod sweeps;
mod twins;

use serde_json::{json, Map, Value};

use crate::data_plane::tests::with_plane;
use crate::data_plane::DataPlane;
use crate::models::tests::real_estate_core;
use crate::query;
use crate::read_model::ReadModel;

pub(super) const SPACE: &str = "dtmi:digitaltwins:rec_3_3:core:Space;1";
pub(super) const BUILDING: &str = "dtmi:digitaltwins:rec_3_3:core:Building;1";
pub(super) const LEVEL: &str = "dtmi:digitaltwins:rec_3_3:core:Level;1";
pub(super) const ROOM: &str = "dtmi:digitaltwins:rec_3_3:core:Room;1";
pub(super) const CONFERENCE_ROOM: &str = "dtmi:digitaltwins:rec_3_3:building:ConferenceRoom;1";
pub(super) const OFFICE: &str = "dtmi:digitaltwins:rec_3_3:building:Office;1";
/// Not RealEstateCore's: a room with an array property, for `ARRAY_CONTAINS`.
pub(super) const TAGGED_ROOM: &str = "dtmi:example:TaggedRoom;1";
pub(super) const CAPABILITY: &str = "dtmi:digitaltwins:rec_3_3:core:Capability;1";
pub(super) const TEMPERATURE_SENSOR: &str = "dtmi:digitaltwins:rec_3_3:device:TemperatureSensor;1";
pub(super) const ASSET: &str = "dtmi:digitaltwins:rec_3_3:core:Asset;1";
pub(super) const ACCESS_CONTROL: &str = "dtmi:digitaltwins:rec_3_3:asset:AccessControlEquipment;1";

/// Each model the graph uses, with the models it extends (transitively) among those the tests
/// ask about, as the ontology's files say.
const ANCESTORS: [(&str, &[&str]); 8] = [
    (BUILDING, &[SPACE]),
    (LEVEL, &[SPACE]),
    (ROOM, &[SPACE]),
    (CONFERENCE_ROOM, &[ROOM, SPACE]),
    (OFFICE, &[ROOM, SPACE]),
    (TAGGED_ROOM, &[ROOM, SPACE]),
    (TEMPERATURE_SENSOR, &[CAPABILITY]),
    (ACCESS_CONTROL, &[ASSET]),
];

/// One twin as the test created it. `None` fields were left out of its body.
#[derive(Debug, Clone, Default)]
pub(super) struct TwinSpec {
    pub(super) id: String,
    pub(super) model: &'static str,
    pub(super) name: Option<String>,
    /// `personCapacity`, of spaces.
    pub(super) capacity: Option<i64>,
    /// `area.grossArea`: a property of the component `area`, of spaces.
    pub(super) gross_area: Option<f64>,
    /// `customTags.quiet`: an entry of a map property.
    pub(super) quiet: Option<bool>,
    pub(super) level_number: Option<i64>,
    /// `lastValue`, of sensors.
    pub(super) last_value: Option<f64>,
    pub(super) tags: Option<Vec<&'static str>>,
}

impl TwinSpec {
    /// Whether the twin is of `model`, following `extends` unless `exact`.
    pub(super) fn is_of(&self, model: &str, exact: bool) -> bool {
        self.model == model
            || (!exact
                && ANCESTORS
                    .iter()
                    .any(|(own, ancestors)| *own == self.model && ancestors.contains(&model)))
    }

    /// The PUT body: the fields that are set, and every component the model requires (from
    /// `components`), `area` with its gross area.
    fn body(&self, components: &[String]) -> Value {
        let mut body = Map::new();
        body.insert("$metadata".into(), json!({"$model": self.model}));
        for component in components {
            body.insert(component.clone(), json!({"$metadata": {}}));
        }
        let mut set = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(key.to_owned(), value);
            }
        };
        set("name", self.name.clone().map(Value::from));
        set("personCapacity", self.capacity.map(Value::from));
        set(
            "customTags",
            self.quiet.map(|quiet| json!({"quiet": quiet})),
        );
        set("levelNumber", self.level_number.map(Value::from));
        set("lastValue", self.last_value.map(Value::from));
        set("tags", self.tags.clone().map(Value::from));
        if let Some(area) = self.gross_area {
            body.insert("area".into(), json!({"$metadata": {}, "grossArea": area}));
        }
        Value::Object(body)
    }
}

/// One relationship as the test created it.
#[derive(Debug, Clone)]
pub(super) struct RelationshipSpec {
    pub(super) source: String,
    pub(super) id: String,
    pub(super) name: &'static str,
    pub(super) target: String,
    pub(super) substance: Option<&'static str>,
}

impl RelationshipSpec {
    fn body(&self) -> Value {
        let mut body = json!({"$targetId": self.target, "$relationshipName": self.name});
        if let Some(substance) = self.substance {
            body["substance"] = json!(substance);
        }
        body
    }
}

/// The graph's twins and relationships, each list in id order (relationships by source, then
/// id), which is the order queries return them in.
pub(super) struct Graph {
    pub(super) twins: Vec<TwinSpec>,
    pub(super) relationships: Vec<RelationshipSpec>,
}

impl Graph {
    fn new() -> Graph {
        let mut twins = Vec::new();
        let mut relationships = Vec::new();
        let mut relate = |source: &str, name: &'static str, target: &str, substance| {
            relationships.push(RelationshipSpec {
                source: source.to_owned(),
                id: format!("{name}-{target}"),
                name,
                target: target.to_owned(),
                substance,
            })
        };
        let room_models = [ROOM, CONFERENCE_ROOM, OFFICE, TAGGED_ROOM];
        let mut n = 0;
        for b in 0..2 {
            let building = format!("b{b}");
            twins.push(TwinSpec {
                id: building.clone(),
                model: BUILDING,
                name: Some(format!("Building {b}")),
                capacity: Some(500 + 300 * b),
                ..TwinSpec::default()
            });
            for l in 0..3 {
                let level = format!("b{b}-l{l}");
                twins.push(TwinSpec {
                    id: level.clone(),
                    model: LEVEL,
                    name: ((b + l) % 4 != 0).then(|| format!("Level {l}")),
                    capacity: (l != 1).then_some(100 + 10 * l),
                    level_number: Some(l),
                    ..TwinSpec::default()
                });
                relate(&building, "hasPart", &level, None);
                relate(&level, "isPartOf", &building, None);
                for r in 0..4 {
                    n += 1;
                    let room = format!("{level}-r{r}");
                    let model = room_models[((b + l + r) % 4) as usize];
                    twins.push(TwinSpec {
                        id: room.clone(),
                        model,
                        name: (n % 3 != 0).then(|| format!("Room {n:02}")),
                        capacity: (n % 4 != 1).then_some(2 + n % 9),
                        gross_area: (n % 5 != 2).then_some(10.0 + 7.5 * (n % 6) as f64),
                        quiet: (n % 7 != 3).then_some(n % 2 == 0),
                        tags: (model == TAGGED_ROOM).then(|| {
                            if n % 2 == 0 {
                                vec!["quiet", "window"]
                            } else {
                                vec!["projector"]
                            }
                        }),
                        ..TwinSpec::default()
                    });
                    relate(&level, "hasPart", &room, None);
                    let sensor = format!("{room}-t");
                    twins.push(TwinSpec {
                        id: sensor.clone(),
                        model: TEMPERATURE_SENSOR,
                        name: Some(format!("Temperature {n:02}")),
                        last_value: (n % 6 != 5).then_some(18.0 + (n % 7) as f64 * 0.5),
                        ..TwinSpec::default()
                    });
                    relate(&room, "hasCapability", &sensor, None);
                }
            }
        }
        for e in 0..4 {
            twins.push(TwinSpec {
                id: format!("e{e}"),
                model: ACCESS_CONTROL,
                name: (e != 2).then(|| format!("Door controller {e}")),
                ..TwinSpec::default()
            });
            relate(
                &format!("e{e}"),
                "locatedIn",
                &format!("b0-l{}-r{e}", e % 3),
                None,
            );
        }
        for (source, target, substance) in [
            ("e0", "e1", Some("Water")),
            ("e0", "e2", Some("SupplyAir")),
            ("e1", "e2", Some("Water")),
            ("e2", "e3", None),
        ] {
            relate(source, "feeds", target, substance);
        }
        twins.sort_by(|a, b| a.id.cmp(&b.id));
        relationships.sort_by(|a, b| (&a.source, &a.id).cmp(&(&b.source, &b.id)));
        Graph {
            twins,
            relationships,
        }
    }

    pub(super) fn twin(&self, id: &str) -> &TwinSpec {
        self.twins
            .iter()
            .find(|twin| twin.id == id)
            .unwrap_or_else(|| panic!("no twin {id} in the graph"))
    }

    /// The relationships of `source` named `name`, in id order.
    pub(super) fn outgoing<'g>(
        &'g self,
        source: &'g str,
        name: &'g str,
    ) -> impl Iterator<Item = &'g RelationshipSpec> + 'g {
        self.relationships
            .iter()
            .filter(move |r| r.source == source && r.name == name)
    }
}

fn tagged_room_model() -> Value {
    json!({
        "@id": TAGGED_ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "extends": ROOM,
        "contents": [{"@type": "Property", "name": "tags",
                      "schema": {"@type": "Array", "elementSchema": "string"}}]
    })
}

/// Creates `graph` through `plane`: the models, then each twin and relationship.
async fn create(plane: &DataPlane, graph: &Graph) {
    plane
        .upload_models(Value::Array(real_estate_core()))
        .await
        .unwrap();
    plane
        .upload_models(json!([tagged_room_model()]))
        .await
        .unwrap();
    let registry = ReadModel::rebuild(plane.log()).unwrap();
    for twin in &graph.twins {
        let model = twin.model.parse().unwrap();
        let components: Vec<String> = registry
            .models()
            .interface_of(&model)
            .unwrap()
            .components()
            .map(|component| component.name.clone())
            .collect();
        plane
            .put_twin(&twin.id, twin.body(&components), true)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", twin.id));
    }
    for relationship in &graph.relationships {
        plane
            .put_relationship(
                &relationship.source,
                &relationship.id,
                relationship.body(),
                true,
            )
            .await
            .unwrap_or_else(|e| panic!("{}/{}: {e}", relationship.source, relationship.id));
    }
}

/// Runs `body` with the graph created through a data plane and a read model rebuilt from its
/// log.
fn with_graph<F: std::future::Future<Output = ()>>(
    body: impl FnOnce(DataPlane, Graph, ReadModel) -> F,
) {
    with_plane(tempfile::tempdir().unwrap().path(), |plane| async move {
        let graph = Graph::new();
        create(&plane, &graph).await;
        let model = ReadModel::rebuild(plane.log()).unwrap();
        body(plane, graph, model).await;
    });
}

/// The results of `text`, after checking that pages of several sizes cut from the same state
/// hold each of them once, in order.
pub(super) fn run(model: &ReadModel, text: &str) -> Vec<Value> {
    let parsed = query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let whole = model
        .query(&parsed)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    for page_items in [1, 2, 7] {
        let mut paged = Vec::new();
        let mut offset = 0;
        loop {
            let page = model.query_page(&parsed, offset, page_items).unwrap();
            assert_eq!(page.total, whole.len(), "{text}, page at {offset}");
            assert!(page.results.len() <= page_items, "{text}, page at {offset}");
            paged.extend(page.results);
            offset += page_items;
            if offset >= page.total {
                break;
            }
        }
        assert_eq!(paged, whole, "{text}, pages of {page_items}");
    }
    whole
}

/// The `key` string of each result.
pub(super) fn strings(results: &[Value], key: &str) -> Vec<String> {
    results
        .iter()
        .map(|result| {
            result[key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in {result}"))
                .to_owned()
        })
        .collect()
}
