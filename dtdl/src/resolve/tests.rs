//! Rules that need the whole upload, or the stored models: references, inheritance, cycles,
//! components, the `extends` limits and schema nesting.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::limits::{EXTENDS_DEPTH_MAX, SCHEMA_DEPTH_MAX, V3_EXTENDS_HIERARCHY_INTERFACES_MAX};
use crate::test_models::{assert_refused, component, loaded, problems, property, v2, v3, with};
use crate::{parse_batch, Dtmi, Interface, ProblemKind};

fn child(id: &str, parents: Value, contents: Value) -> Value {
    with(v3(id, contents), "extends", parents)
}

fn dtmi(text: &str) -> Dtmi {
    text.parse().expect("a valid DTMI")
}

#[test]
fn duplicate_names_within_an_interface_are_refused() {
    let id = "dtmi:a:A;1";
    let contents = json!([property("p", json!("double")), {"@type": "Telemetry", "name": "p", "schema": "double"}]);
    assert_refused(
        &[v3(id, contents)],
        id,
        "$.contents[1].name",
        |kind| matches!(kind, ProblemKind::DuplicateName { name, .. } if name == "p"),
    );
}

#[test]
fn a_name_inherited_cannot_be_declared_again() {
    let parent = v3("dtmi:a:Parent;1", json!([property("p", json!("double"))]));
    let own = child(
        "dtmi:a:Child;1",
        json!("dtmi:a:Parent;1"),
        json!([
            property("q", json!("double")),
            property("p", json!("string"))
        ]),
    );
    assert_refused(
        &[parent, own],
        "dtmi:a:Child;1",
        "$.contents[1].name",
        |kind| matches!(kind, ProblemKind::DuplicateName { by, .. } if by.contains("dtmi:a:Parent;1")),
    );
}

#[test]
fn two_parents_cannot_declare_the_same_name() {
    let left = v3("dtmi:a:Left;1", json!([property("p", json!("double"))]));
    let right = v3("dtmi:a:Right;1", json!([property("p", json!("double"))]));
    let both = child(
        "dtmi:a:Both;1",
        json!(["dtmi:a:Left;1", "dtmi:a:Right;1"]),
        json!([]),
    );
    assert_refused(
        &[left, right, both],
        "dtmi:a:Both;1",
        "$.extends[1]",
        |kind| matches!(kind, ProblemKind::DuplicateName { .. }),
    );
}

#[test]
fn a_diamond_inherits_the_shared_base_once() {
    let models = [
        v3("dtmi:a:Base;1", json!([property("p", json!("double"))])),
        child("dtmi:a:Left;1", json!("dtmi:a:Base;1"), json!([])),
        child("dtmi:a:Right;1", json!("dtmi:a:Base;1"), json!([])),
        child(
            "dtmi:a:Bottom;1",
            json!(["dtmi:a:Left;1", "dtmi:a:Right;1"]),
            json!([]),
        ),
    ];
    let bottom = &loaded(&models)[3];
    assert_eq!(bottom.members().len(), 1);
    assert_eq!(bottom.members()["p"].defined_in, dtmi("dtmi:a:Base;1"));
    assert_eq!(bottom.bases().len(), 3);
    assert!(bottom.is_a(&dtmi("dtmi:a:Base;1")) && bottom.is_a(&dtmi("dtmi:a:Bottom;1")));
    assert!(!bottom.is_a(&dtmi("dtmi:a:Other;1")));
    assert_eq!(bottom.extends_depth(), 2);
}

#[test]
fn extends_cycles_are_refused() {
    let a = child("dtmi:a:A;1", json!("dtmi:a:B;1"), json!([]));
    let b = child("dtmi:a:B;1", json!(["dtmi:a:A;1"]), json!([]));
    let found = problems(&[a, b]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].model.as_str(), found[0].path.as_str()),
        ("dtmi:a:B;1", "$.extends[0]")
    );
    assert_eq!(
        found[0].kind,
        ProblemKind::ExtendsCycle {
            cycle: vec![
                "dtmi:a:A;1".into(),
                "dtmi:a:B;1".into(),
                "dtmi:a:A;1".into()
            ]
        }
    );

    let own = child("dtmi:a:Self;1", json!("dtmi:a:Self;1"), json!([]));
    assert_refused(
        &[own],
        "dtmi:a:Self;1",
        "$.extends",
        |kind| matches!(kind, ProblemKind::ExtendsCycle { cycle } if cycle.len() == 2),
    );
}

#[test]
fn component_cycles_are_refused() {
    let a = v2("dtmi:a:A;1", json!([component("b", json!("dtmi:a:B;1"))]));
    let b = v2(
        "dtmi:a:B;1",
        json!([
            property("x", json!("double")),
            component("a", json!("dtmi:a:A;1"))
        ]),
    );
    assert_refused(&[a, b], "dtmi:a:B;1", "$.contents[1].schema", |kind| {
        matches!(kind, ProblemKind::ComponentCycle { .. })
    });
    let through_parent = child("dtmi:a:C;1", json!("dtmi:a:D;1"), json!([]));
    let parent = v3("dtmi:a:D;1", json!([component("c", json!("dtmi:a:C;1"))]));
    assert_refused(
        &[through_parent, parent],
        "dtmi:a:D;1",
        "$.contents[0].schema",
        |kind| matches!(kind, ProblemKind::ComponentCycle { .. }),
    );
}

#[test]
fn v3_forbids_nested_components_and_v2_allows_them() {
    let leaf = |make: fn(&str, Value) -> Value| {
        make("dtmi:a:Leaf;1", json!([property("x", json!("double"))]))
    };
    let middle = |make: fn(&str, Value) -> Value| {
        make(
            "dtmi:a:Middle;1",
            json!([component("leaf", json!("dtmi:a:Leaf;1"))]),
        )
    };
    let top = |make: fn(&str, Value) -> Value| {
        make(
            "dtmi:a:Top;1",
            json!([component("middle", json!("dtmi:a:Middle;1"))]),
        )
    };
    assert_refused(
        &[leaf(v3), middle(v3), top(v3)],
        "dtmi:a:Top;1",
        "$.contents[0].schema",
        |kind| {
            *kind
                == ProblemKind::NestedComponent {
                    interface: "dtmi:a:Middle;1".into(),
                    component: "leaf".into(),
                }
        },
    );
    let interfaces = loaded(&[leaf(v2), middle(v2), top(v2)]);
    let middle = interfaces[2]
        .component_interface("middle")
        .expect("resolved");
    assert!(middle
        .component_interface("leaf")
        .expect("resolved")
        .property("x")
        .is_some());
}

#[test]
fn v2_interfaces_cannot_use_v3_interfaces() {
    let newer = v3("dtmi:a:New;1", json!([]));
    let extends = with(
        v2("dtmi:a:Old;1", json!([])),
        "extends",
        json!("dtmi:a:New;1"),
    );
    assert_refused(
        &[newer.clone(), extends],
        "dtmi:a:Old;1",
        "$.extends",
        |kind| {
            matches!(
                kind,
                ProblemKind::VersionMix {
                    role: "extends",
                    ..
                }
            )
        },
    );
    let uses = v2(
        "dtmi:a:Old;1",
        json!([component("c", json!("dtmi:a:New;1"))]),
    );
    assert_refused(
        &[newer.clone(), uses],
        "dtmi:a:Old;1",
        "$.contents[0].schema",
        |kind| matches!(kind, ProblemKind::VersionMix { .. }),
    );
    let older = v2("dtmi:a:Old;1", json!([]));
    loaded(&[
        older,
        child("dtmi:a:New;1", json!("dtmi:a:Old;1"), json!([])),
    ]);
}

#[test]
fn v2_forbids_arrays_in_properties_even_nested() {
    let id = "dtmi:a:A;1";
    let array = json!({"@type": "Array", "elementSchema": "double"});
    assert_refused(
        &[v2(id, json!([property("a", array.clone())]))],
        id,
        "$.contents[0].schema",
        |kind| *kind == ProblemKind::ArrayInV2Property,
    );
    let nested = json!({"@type": "Object", "fields": [{"name": "x", "schema": "double"}, {"name": "list", "schema": array}]});
    assert_refused(
        &[v2(id, json!([property("o", nested.clone())]))],
        id,
        "$.contents[0].schema.fields[1].schema",
        |kind| *kind == ProblemKind::ArrayInV2Property,
    );
    let in_relationship =
        json!([{"@type": "Relationship", "name": "r", "properties": property("a", array.clone())}]);
    assert_refused(
        &[v2(id, in_relationship)],
        id,
        "$.contents[0].properties.schema",
        |kind| *kind == ProblemKind::ArrayInV2Property,
    );
    loaded(&[v2(
        id,
        json!([{"@type": "Telemetry", "name": "a", "schema": array}]),
    )]);
    loaded(&[v3(id, json!([property("o", nested)]))]);
}

fn chain(length: usize, make: fn(&str, Value) -> Value) -> Vec<Value> {
    (0..length)
        .map(|level| {
            let model = make(
                &format!("dtmi:a:L{level};1"),
                json!([property(&format!("p{level}"), json!("double"))]),
            );
            match level {
                0 => model,
                _ => with(model, "extends", json!(format!("dtmi:a:L{};1", level - 1))),
            }
        })
        .collect()
}

#[test]
fn extends_depth_is_at_most_10() {
    let at_limit = loaded(&chain(EXTENDS_DEPTH_MAX + 1, v3));
    assert_eq!(
        at_limit[EXTENDS_DEPTH_MAX].extends_depth(),
        EXTENDS_DEPTH_MAX
    );
    assert_eq!(
        at_limit[EXTENDS_DEPTH_MAX].members().len(),
        EXTENDS_DEPTH_MAX + 1
    );
    for make in [v2, v3] {
        let over = chain(EXTENDS_DEPTH_MAX + 2, make);
        let found = problems(&over);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].model.as_str(), found[0].path.as_str()),
            ("dtmi:a:L11;1", "$.extends")
        );
        assert_eq!(
            found[0].kind,
            ProblemKind::LimitExceeded {
                what: "`extends` depth",
                count: 11,
                max: 10
            }
        );
        assert!(
            found[0]
                .to_string()
                .contains("`extends` depth 11 exceeds the limit of 10"),
            "{}",
            found[0]
        );
    }
}

#[test]
fn the_depth_counts_stored_ancestors_too() {
    let first = loaded(&chain(EXTENDS_DEPTH_MAX + 1, v3));
    let stored: HashMap<Dtmi, Arc<Interface>> = first
        .into_iter()
        .map(|interface| (interface.id().clone(), interface))
        .collect();
    let deeper = child(
        "dtmi:a:Deeper;1",
        json!(format!("dtmi:a:L{EXTENDS_DEPTH_MAX};1")),
        json!([]),
    );
    let error = parse_batch(std::slice::from_ref(&deeper), &stored).expect_err("too deep");
    assert_eq!(
        error.problems[0].kind,
        ProblemKind::LimitExceeded {
            what: "`extends` depth",
            count: 11,
            max: 10
        }
    );
    let shallow = child(
        "dtmi:a:Shallow;1",
        json!("dtmi:a:L3;1"),
        json!([property("own", json!("string"))]),
    );
    let loaded = parse_batch(&[shallow], &stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded[0].members().len(), 5);
    assert!(loaded[0].is_a(&dtmi("dtmi:a:L0;1")));
}

#[test]
fn a_v3_hierarchy_holds_at_most_1024_interfaces() {
    let parents: Vec<String> = (0..=V3_EXTENDS_HIERARCHY_INTERFACES_MAX)
        .map(|i| format!("dtmi:a:P{i};1"))
        .collect();
    let mut models: Vec<Value> = parents.iter().map(|id| v3(id, json!([]))).collect();
    models.push(child("dtmi:a:Wide;1", json!(parents), json!([])));
    assert_refused(&models, "dtmi:a:Wide;1", "$.extends", |kind| {
        *kind
            == ProblemKind::LimitExceeded {
                what: "Interfaces in the `extends` hierarchy",
                count: 1025,
                max: 1024,
            }
    });
}

#[test]
fn complex_schemas_nest_at_most_5_deep_references_included() {
    let id = "dtmi:a:A;1";
    let nest = |depth: usize| {
        (1..depth).fold(
            json!({"@type": "Array", "elementSchema": "double"}),
            |inner, _| json!({"@type": "Array", "elementSchema": inner}),
        )
    };
    loaded(&[v3(id, json!([property("p", nest(SCHEMA_DEPTH_MAX))]))]);
    let deep_at = format!(
        "$.contents[0].schema{}",
        ".elementSchema".repeat(SCHEMA_DEPTH_MAX)
    );
    assert_refused(
        &[v3(id, json!([property("p", nest(SCHEMA_DEPTH_MAX + 1))]))],
        id,
        &deep_at,
        |kind| {
            *kind
                == ProblemKind::LimitExceeded {
                    what: "complex schema nesting",
                    count: 6,
                    max: 5,
                }
        },
    );
    let reusable = with(
        v3(
            id,
            json!([property(
                "p",
                json!({"@type": "Array", "elementSchema": "dtmi:a:Deep;1"})
            )]),
        ),
        "schemas",
        json!([with(nest(SCHEMA_DEPTH_MAX), "@id", json!("dtmi:a:Deep;1"))]),
    );
    let by_reference = format!(
        "$.contents[0].schema{}",
        ".elementSchema".repeat(SCHEMA_DEPTH_MAX)
    );
    assert_refused(&[reusable], id, &by_reference, |kind| {
        matches!(kind, ProblemKind::LimitExceeded { count: 6, .. })
    });
    let recursive = with(
        v3(id, json!([property("p", "dtmi:a:Node;1")])),
        "schemas",
        json!([{"@id": "dtmi:a:Node;1", "@type": "Object", "fields": [{"name": "next", "schema": "dtmi:a:Node;1"}]}]),
    );
    assert!(problems(&[recursive]).iter().any(|problem| matches!(
        problem.kind,
        ProblemKind::LimitExceeded {
            what: "complex schema nesting",
            ..
        }
    )));
}

#[test]
fn reusable_schemas_resolve_within_the_interface_its_bases_and_the_upload() {
    let point = json!({"@id": "dtmi:a:Pair;1", "@type": "Object", "fields": [{"name": "x", "schema": "double"}, {"name": "y", "schema": "double"}]});
    let owner = with(
        v3("dtmi:a:Owner;1", json!([property("own", "dtmi:a:Pair;1")])),
        "schemas",
        json!([point]),
    );
    let heir = child(
        "dtmi:a:Heir;1",
        json!("dtmi:a:Owner;1"),
        json!([property("inherited", "dtmi:a:Pair;1")]),
    );
    let stranger = v3(
        "dtmi:a:Stranger;1",
        json!([{"@type": "Telemetry", "name": "t", "schema": "dtmi:a:Pair;1"}]),
    );
    let interfaces = loaded(&[owner, heir, stranger]);
    assert!(matches!(
        interfaces[1]
            .property("inherited")
            .expect("declared")
            .schema,
        crate::Schema::Object(_)
    ));
    assert!(interfaces[0].schemas().contains_key(&dtmi("dtmi:a:Pair;1")));
    assert!(interfaces[2]
        .dependencies()
        .contains(&dtmi("dtmi:a:Owner;1")));
    assert!(!interfaces[1]
        .dependencies()
        .contains(&dtmi("dtmi:a:Pair;1")));
}

#[test]
fn dangling_references_are_refused_where_they_are_written() {
    let id = "dtmi:a:A;1";
    let cases = [
        (
            with(v3(id, json!([])), "extends", json!(["dtmi:a:Gone;1"])),
            "$.extends[0]",
            "extends",
        ),
        (
            v3(id, json!([component("c", json!("dtmi:a:Gone;1"))])),
            "$.contents[0].schema",
            "component schema",
        ),
        (
            v3(
                id,
                json!([{"@type": "Relationship", "name": "r", "target": "dtmi:a:Gone;1"}]),
            ),
            "$.contents[0].target",
            "relationship target",
        ),
        (
            v3(
                id,
                json!([property(
                    "p",
                    json!({"@type": "Map", "mapKey": {"name": "k", "schema": "string"}, "mapValue": {"name": "v", "schema": "dtmi:a:Gone;1"}})
                )]),
            ),
            "$.contents[0].schema.mapValue.schema",
            "schema",
        ),
    ];
    for (model, path, expected_role) in cases {
        assert_refused(
            &[model],
            id,
            path,
            |kind| matches!(kind, ProblemKind::Unresolved { role, id } if *role == expected_role && id == "dtmi:a:Gone;1"),
        );
    }
}

#[test]
fn models_are_unique_in_the_upload_and_new_to_the_store() {
    let twice = [v3("dtmi:a:A;1", json!([])), v3("dtmi:a:A;1", json!([]))];
    assert_refused(&twice, "dtmi:a:A;1", "$['@id']", |kind| {
        matches!(kind, ProblemKind::DuplicateModel { .. })
    });
    let stored: HashMap<Dtmi, Arc<Interface>> = loaded(&twice[..1])
        .into_iter()
        .map(|interface| (interface.id().clone(), interface))
        .collect();
    let error = parse_batch(&twice[..1], &stored).expect_err("already stored");
    assert!(matches!(
        error.problems[0].kind,
        ProblemKind::ModelAlreadyExists { .. }
    ));
}

#[test]
fn inline_interfaces_resolve_and_are_not_dependencies() {
    let inline_parent = json!({"@type": "Interface", "contents": [property("inherited", json!("double"))], "extends": "dtmi:a:Root;1"});
    let inline_component = json!({"@type": "Interface", "@id": "dtmi:a:Part;1", "contents": [{"@type": "Relationship", "name": "r", "target": "dtmi:a:Root;1"}]});
    let model = with(
        v3("dtmi:a:A;1", json!([component("part", inline_component)])),
        "extends",
        json!([inline_parent]),
    );
    let interfaces = loaded(&[v3("dtmi:a:Root;1", json!([])), model]);
    let a = &interfaces[1];
    assert!(a.property("inherited").is_some());
    assert_eq!(a.extends()[0].as_str(), "dtmi:a:A:_extends_0;1");
    assert!(a.is_a(&dtmi("dtmi:a:Root;1")));
    assert!(a
        .component_interface("part")
        .expect("resolved")
        .relationship("r")
        .is_some());
    let dependencies: Vec<&str> = a.dependencies().iter().map(Dtmi::as_str).collect();
    assert_eq!(dependencies, ["dtmi:a:Root;1"]);

    let bad_inline = json!({"@type": "Interface", "contents": [property("9", json!("double"))]});
    let model = with(v3("dtmi:a:B;1", json!([])), "extends", json!(bad_inline));
    assert_refused(
        &[model],
        "dtmi:a:B;1",
        "$.extends.contents[0].name",
        |kind| matches!(kind, ProblemKind::InvalidName { .. }),
    );
}

#[test]
fn commands_are_accepted_and_their_schemas_checked() {
    let id = "dtmi:a:A;1";
    let command = json!({"@type": "Command", "name": "reboot", "request": {"name": "delay", "schema": "duration"}, "response": {"name": "ok", "schema": "boolean"}});
    let interface = &loaded(&[v3(id, json!([command]))])[0];
    assert_eq!(
        interface.member("reboot").map(crate::Content::kind),
        Some("Command")
    );
    let broken = json!({"@type": "Command", "name": "reboot", "request": {"name": "delay", "schema": "dtmi:a:Gone;1"}});
    assert_refused(
        &[v3(id, json!([broken]))],
        id,
        "$.contents[0].request.schema",
        |kind| matches!(kind, ProblemKind::Unresolved { .. }),
    );
}

#[test]
fn a_content_with_a_broken_schema_does_not_shift_the_others() {
    let id = "dtmi:a:A;1";
    let contents = json!([
        property("broken", "dtmi:a:Gone;1"),
        property("fine", "double"),
        property("fine", "string")
    ]);
    let found = problems(&[v3(id, contents)]);
    let places: Vec<&str> = found.iter().map(|problem| problem.path.as_str()).collect();
    assert_eq!(places, ["$.contents[0].schema", "$.contents[2].name"]);
}
