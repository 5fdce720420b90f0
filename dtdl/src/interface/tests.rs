//! Rules checked while one model is read: identifiers, contexts, types, names, texts,
//! multiplicities, schemas and the per-model limits.

use serde_json::{json, Value};

use crate::dtmi::DtmiError;
use crate::limits::{
    DESCRIPTION_CHARS_MAX, DISPLAY_NAME_CHARS_MAX, INTERFACE_BYTES_MAX, INTERFACE_ID_CHARS_MAX,
    NAME_CHARS_MAX, V2_CONTENTS_MAX, V3_ELEMENTS_MAX,
};
use crate::test_models::{assert_refused, loaded, problems, property, v2, v3, with};
use crate::ProblemKind;

#[test]
fn a_minimal_interface_of_each_version_loads() {
    let interfaces = loaded(&[v2("dtmi:a:Two;1", json!([])), v3("dtmi:a:Three", json!([]))]);
    assert_eq!(interfaces[0].version().number(), 2);
    assert_eq!(interfaces[1].version().number(), 3);
}

#[test]
fn interface_ids_follow_the_version_rules() {
    let cases = [
        (v2("dtmi:a:Room", json!([])), "dtmi:a:Room"),
        (v2("dtmi:a:Room;1.2", json!([])), "dtmi:a:Room;1.2"),
        (v3("dtmi:a:2Room;1", json!([])), "dtmi:a:2Room;1"),
        (v3("dtmi:a:Room_;1", json!([])), "dtmi:a:Room_;1"),
        (v3("urn:a:Room;1", json!([])), "urn:a:Room;1"),
    ];
    for (model, id) in cases {
        assert_refused(&[model], id, "$['@id']", |kind| {
            matches!(kind, ProblemKind::InvalidDtmi { .. })
        });
    }
    assert!(loaded(&[v3("dtmi:a:Room;1.2", json!([]))])[0].id().as_str() == "dtmi:a:Room;1.2");
}

#[test]
fn a_missing_or_non_string_id_names_the_model_by_position() {
    let mut anonymous = v3("dtmi:a:A;1", json!([]));
    anonymous.as_object_mut().map(|model| model.remove("@id"));
    assert_refused(&[anonymous], "upload[0]", "$", |kind| {
        *kind == ProblemKind::MissingProperty { property: "@id" }
    });
    let numbered = with(v3("dtmi:a:A;1", json!([])), "@id", json!(7));
    assert_refused(&[numbered], "upload[0]", "$['@id']", |kind| {
        matches!(kind, ProblemKind::WrongShape { .. })
    });
}

#[test]
fn interface_ids_are_capped_at_128_characters() {
    let id = format!("dtmi:a:{};1", "b".repeat(INTERFACE_ID_CHARS_MAX - 8));
    assert_eq!(id.len(), INTERFACE_ID_CHARS_MAX + 1);
    assert_refused(&[v3(&id, json!([]))], &id, "$['@id']", |kind| {
        *kind
            == ProblemKind::TooLong {
                property: "@id",
                chars: INTERFACE_ID_CHARS_MAX + 1,
                max: INTERFACE_ID_CHARS_MAX,
            }
    });
}

#[test]
fn reserved_prefixes_are_refused_for_user_interfaces() {
    for id in ["dtmi:dtdl:Mine;1", "dtmi:standard:Mine;1"] {
        assert_refused(&[v2(id, json!([]))], id, "$['@id']", |kind| {
            matches!(kind, ProblemKind::ReservedDtmi { .. })
        });
    }
}

#[test]
fn the_context_must_name_dtdl_2_or_3_first() {
    let id = "dtmi:a:A;1";
    let bad = [
        (json!("dtmi:dtdl:context;4"), "$['@context']"),
        (
            json!(["dtmi:iotcentral:context;2", "dtmi:dtdl:context;2"]),
            "$['@context'][0]",
        ),
        (json!([]), "$['@context']"),
        (json!(3), "$['@context']"),
    ];
    for (context, path) in bad {
        let model = with(v3(id, json!([])), "@context", context);
        assert_refused(&[model], id, path, |kind| {
            matches!(kind, ProblemKind::InvalidContext { .. })
        });
    }
    let mut missing = v3(id, json!([]));
    missing
        .as_object_mut()
        .map(|model| model.remove("@context"));
    assert_refused(&[missing], id, "$", |kind| {
        *kind
            == ProblemKind::MissingProperty {
                property: "@context",
            }
    });
}

#[test]
fn extension_contexts_are_v3_only_and_must_be_known() {
    let id = "dtmi:a:A;1";
    let v2_with_extension = with(
        v2(id, json!([])),
        "@context",
        json!(["dtmi:dtdl:context;2", "dtmi:dtdl:extension:historization;1"]),
    );
    assert_refused(&[v2_with_extension], id, "$['@context'][1]", |kind| {
        matches!(kind, ProblemKind::UnsupportedContext { version: 2, .. })
    });
    let misspelt = with(
        v3(id, json!([])),
        "@context",
        json!([
            "dtmi:dtdl:context;3",
            "dtmi:dtdl:extension:quantitiveTypes;1"
        ]),
    );
    assert_refused(&[misspelt], id, "$['@context'][1]", |kind| {
        matches!(kind, ProblemKind::UnsupportedContext { version: 3, .. })
    });
    let twice = with(
        v3(id, json!([])),
        "@context",
        json!(["dtmi:dtdl:context;3", "dtmi:dtdl:context;2"]),
    );
    assert_refused(&[twice], id, "$['@context'][1]", |kind| {
        matches!(kind, ProblemKind::UnsupportedContext { .. })
    });
    let known = with(
        v3(
            id,
            json!([{"@type": ["Property", "Historized"], "name": "t", "schema": "double"}]),
        ),
        "@context",
        json!([
            "dtmi:dtdl:context;3",
            "dtmi:dtdl:extension:historization;1",
            "dtmi:dtdl:extension:annotation;1",
            "dtmi:com:partner:context;1"
        ]),
    );
    loaded(&[known]);
}

#[test]
fn unknown_types_are_refused() {
    let id = "dtmi:a:A;1";
    let content = json!({"@type": "Propertyy", "name": "p", "schema": "double"});
    assert_refused(
        &[v3(id, json!([content]))],
        id,
        "$.contents[0]['@type']",
        |kind| matches!(kind, ProblemKind::UnknownType { .. }),
    );
    let two_classes = json!({"@type": ["Property", "Telemetry"], "name": "p", "schema": "double"});
    assert_refused(
        &[v3(id, json!([two_classes]))],
        id,
        "$.contents[0]['@type']",
        |kind| matches!(kind, ProblemKind::UnknownType { .. }),
    );
    let not_interface = with(v3(id, json!([])), "@type", json!("Object"));
    assert_refused(&[not_interface], id, "$['@type']", |kind| {
        matches!(kind, ProblemKind::UnknownType { .. })
    });
    let no_type = json!({"name": "p", "schema": "double"});
    assert_refused(&[v3(id, json!([no_type]))], id, "$.contents[0]", |kind| {
        *kind == ProblemKind::MissingProperty { property: "@type" }
    });
}

#[test]
fn semantic_co_types_carry_their_unit() {
    let model = with(
        v3(
            "dtmi:a:A;1",
            json!([{"@type": ["Property", "Temperature"], "name": "t", "schema": "double", "unit": "degreeCelsius"}]),
        ),
        "@context",
        json!([
            "dtmi:dtdl:context;3",
            "dtmi:dtdl:extension:quantitativeTypes;1"
        ]),
    );
    let interface = &loaded(&[model])[0];
    let temperature = interface.property("t").expect("declared");
    assert_eq!(temperature.co_types, ["Temperature"]);
    assert_eq!(temperature.unit.as_deref(), Some("degreeCelsius"));
}

#[test]
fn unknown_properties_are_refused_unless_a_co_type_brings_them() {
    let id = "dtmi:a:A;1";
    let content = json!({"@type": "Property", "name": "p", "schema": "double", "unit": "metre"});
    assert_refused(
        &[v3(id, json!([content]))],
        id,
        "$.contents[0].unit",
        |kind| matches!(kind, ProblemKind::UnknownProperty { .. }),
    );
    let telemetry_writable =
        json!({"@type": "Telemetry", "name": "t", "schema": "double", "writable": true});
    assert_refused(
        &[v3(id, json!([telemetry_writable]))],
        id,
        "$.contents[0].writable",
        |kind| matches!(kind, ProblemKind::UnknownProperty { .. }),
    );
}

#[test]
fn names_follow_the_pattern_and_the_length_cap() {
    let id = "dtmi:a:A;1";
    for name in ["1abc", "abc_", "_abc", "a-b", "", "a b"] {
        assert_refused(
            &[v3(id, json!([property(name, json!("double"))]))],
            id,
            "$.contents[0].name",
            |kind| matches!(kind, ProblemKind::InvalidName { .. }),
        );
    }
    let long = "a".repeat(NAME_CHARS_MAX + 1);
    assert_refused(
        &[v3(id, json!([property(&long, json!("double"))]))],
        id,
        "$.contents[0].name",
        |kind| {
            *kind
                == ProblemKind::TooLong {
                    property: "name",
                    chars: NAME_CHARS_MAX + 1,
                    max: NAME_CHARS_MAX,
                }
        },
    );
    loaded(&[v3(
        id,
        json!([
            property("a", json!("double")),
            property("a_b9", json!("double")),
            property(&"a".repeat(NAME_CHARS_MAX), json!("double"))
        ]),
    )]);
}

#[test]
fn display_names_and_descriptions_are_capped_and_become_language_maps() {
    let id = "dtmi:a:A;1";
    let long_name = "n".repeat(DISPLAY_NAME_CHARS_MAX + 1);
    let too_long = with(v3(id, json!([])), "displayName", json!(long_name));
    assert_refused(&[too_long], id, "$.displayName", |kind| {
        matches!(
            kind,
            ProblemKind::TooLong {
                property: "displayName",
                chars: 65,
                max: 64
            }
        )
    });
    let in_map = with(
        v3(id, json!([])),
        "displayName",
        json!({"en": "ok", "de": long_name}),
    );
    assert_refused(&[in_map], id, "$.displayName.de", |kind| {
        matches!(kind, ProblemKind::TooLong { .. })
    });
    let long_text = "d".repeat(DESCRIPTION_CHARS_MAX + 1);
    let content =
        json!({"@type": "Property", "name": "p", "schema": "double", "description": long_text});
    assert_refused(
        &[v3(id, json!([content]))],
        id,
        "$.contents[0].description",
        |kind| {
            matches!(
                kind,
                ProblemKind::TooLong {
                    property: "description",
                    ..
                }
            )
        },
    );
    let comment = with(v3(id, json!([])), "comment", json!(long_text));
    assert_refused(&[comment], id, "$.comment", |kind| {
        matches!(
            kind,
            ProblemKind::TooLong {
                property: "comment",
                ..
            }
        )
    });
    let number = with(v3(id, json!([])), "description", json!(5));
    assert_refused(&[number], id, "$.description", |kind| {
        matches!(kind, ProblemKind::WrongShape { .. })
    });

    let model = with(
        with(v3(id, json!([])), "displayName", json!("Pump")),
        "description",
        json!({"en": "A pump", "fr": "Une pompe"}),
    );
    let interface = &loaded(&[model])[0];
    assert_eq!(
        interface.display_name().get("en").map(String::as_str),
        Some("Pump")
    );
    assert_eq!(interface.description().len(), 2);
}

#[test]
fn relationship_multiplicities_are_checked() {
    let id = "dtmi:a:A;1";
    let relationship =
        |key: &str, value: Value| json!([{"@type": "Relationship", "name": "r", key: value}]);
    assert_refused(
        &[v3(id, relationship("minMultiplicity", json!(1)))],
        id,
        "$.contents[0].minMultiplicity",
        |kind| matches!(kind, ProblemKind::MinMultiplicity { .. }),
    );
    assert_refused(
        &[v2(id, relationship("minMultiplicity", json!("0")))],
        id,
        "$.contents[0].minMultiplicity",
        |kind| matches!(kind, ProblemKind::MinMultiplicity { .. }),
    );
    for max in [json!(0), json!(-1), json!(1.5)] {
        assert_refused(
            &[v3(id, relationship("maxMultiplicity", max))],
            id,
            "$.contents[0].maxMultiplicity",
            |kind| matches!(kind, ProblemKind::MaxMultiplicity { .. }),
        );
    }
    let ok = json!([{"@type": "Relationship", "name": "r", "minMultiplicity": 0, "maxMultiplicity": 1, "properties": [{"@type": "Property", "name": "since", "schema": "date"}]}]);
    let interface = &loaded(&[v2(id, ok)])[0];
    let relationship = interface.relationship("r").expect("declared");
    assert_eq!(
        (relationship.min_multiplicity, relationship.max_multiplicity),
        (Some(0), Some(1))
    );
    assert_eq!(relationship.properties[0].name, "since");
}

#[test]
fn relationship_properties_must_be_properties_with_unique_names() {
    let id = "dtmi:a:A;1";
    let telemetry = json!([{"@type": "Relationship", "name": "r", "properties": {"@type": "Telemetry", "name": "t", "schema": "double"}}]);
    assert_refused(
        &[v3(id, telemetry)],
        id,
        "$.contents[0].properties['@type']",
        |kind| matches!(kind, ProblemKind::UnknownType { .. }),
    );
    let twice = json!([{"@type": "Relationship", "name": "r", "properties": [property("p", json!("double")), property("p", json!("string"))]}]);
    assert_refused(
        &[v3(id, twice)],
        id,
        "$.contents[0].properties[1].name",
        |kind| matches!(kind, ProblemKind::DuplicateName { .. }),
    );
}

#[test]
fn enums_need_a_valid_value_schema_and_matching_unique_values() {
    let id = "dtmi:a:A;1";
    let enumeration = |value_schema: &str, values: Value| {
        json!([property(
            "e",
            json!({"@type": "Enum", "valueSchema": value_schema, "enumValues": values})
        )])
    };
    assert_refused(
        &[v3(id, enumeration("double", json!([])))],
        id,
        "$.contents[0].schema.valueSchema",
        |kind| matches!(kind, ProblemKind::UnknownSchema { .. }),
    );
    let mixed = json!([{"name": "a", "enumValue": 1}, {"name": "b", "enumValue": "two"}]);
    assert_refused(
        &[v3(id, enumeration("integer", mixed))],
        id,
        "$.contents[0].schema.enumValues[1].enumValue",
        |kind| {
            matches!(
                kind,
                ProblemKind::EnumValueType {
                    value_schema: "integer",
                    ..
                }
            )
        },
    );
    let too_big = json!([{"name": "a", "enumValue": 4_294_967_296_i64}]);
    assert_refused(
        &[v3(id, enumeration("integer", too_big))],
        id,
        "$.contents[0].schema.enumValues[0].enumValue",
        |kind| matches!(kind, ProblemKind::EnumValueType { .. }),
    );
    let repeated = json!([{"name": "a", "enumValue": "x"}, {"name": "a", "enumValue": "x"}]);
    let found = problems(&[v3(id, enumeration("string", repeated))]);
    let paths: Vec<&str> = found.iter().map(|problem| problem.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.contents[0].schema.enumValues[1].name",
            "$.contents[0].schema.enumValues[1].enumValue"
        ]
    );
    let missing_values = json!([property(
        "e",
        json!({"@type": "Enum", "valueSchema": "string"})
    )]);
    assert_refused(
        &[v3(id, missing_values)],
        id,
        "$.contents[0].schema",
        |kind| {
            *kind
                == ProblemKind::MissingProperty {
                    property: "enumValues",
                }
        },
    );
}

#[test]
fn objects_and_maps_are_checked_field_by_field() {
    let id = "dtmi:a:A;1";
    let object = json!({"@type": "Object", "fields": [{"name": "a", "schema": "double"}, {"name": "a", "schema": "string"}]});
    assert_refused(
        &[v3(id, json!([property("o", object)]))],
        id,
        "$.contents[0].schema.fields[1].name",
        |kind| matches!(kind, ProblemKind::DuplicateName { .. }),
    );
    let bad_field_name = json!({"@type": "Object", "fields": [{"name": "ok", "schema": "double"}, {"name": "9", "schema": "double"}]});
    assert_refused(
        &[v3(id, json!([property("o", bad_field_name)]))],
        id,
        "$.contents[0].schema.fields[1].name",
        |kind| matches!(kind, ProblemKind::InvalidName { .. }),
    );
    let integer_keys = json!({"@type": "Map", "mapKey": {"name": "k", "schema": "integer"}, "mapValue": {"name": "v", "schema": "double"}});
    assert_refused(
        &[v3(id, json!([property("m", integer_keys)]))],
        id,
        "$.contents[0].schema.mapKey.schema",
        |kind| matches!(kind, ProblemKind::WrongShape { .. }),
    );
    let array_with_fields = json!({"@type": "Array", "elementSchema": "double", "fields": []});
    assert_refused(
        &[v3(id, json!([property("a", array_with_fields)]))],
        id,
        "$.contents[0].schema.fields",
        |kind| matches!(kind, ProblemKind::UnknownProperty { .. }),
    );
}

#[test]
fn primitive_schemas_depend_on_the_version() {
    let id = "dtmi:a:A;1";
    for v3_only in [
        "uuid",
        "point",
        "byte",
        "unsignedLong",
        "decimal",
        "multiPolygon",
    ] {
        assert_refused(
            &[v2(id, json!([property("p", json!(v3_only))]))],
            id,
            "$.contents[0].schema",
            |kind| matches!(kind, ProblemKind::UnknownSchema { version: 2, .. }),
        );
        loaded(&[v3(id, json!([property("p", json!(v3_only))]))]);
    }
    assert_refused(
        &[v3(id, json!([property("p", json!("number"))]))],
        id,
        "$.contents[0].schema",
        |kind| matches!(kind, ProblemKind::UnknownSchema { .. }),
    );
    assert_refused(
        &[v3(id, json!([property("p", json!(5))]))],
        id,
        "$.contents[0].schema",
        |kind| matches!(kind, ProblemKind::WrongShape { .. }),
    );
}

#[test]
fn writable_must_be_a_boolean_and_defaults_to_false() {
    let id = "dtmi:a:A;1";
    let content = json!({"@type": "Property", "name": "p", "schema": "double", "writable": "yes"});
    assert_refused(
        &[v3(id, json!([content]))],
        id,
        "$.contents[0].writable",
        |kind| matches!(kind, ProblemKind::WrongShape { .. }),
    );
    let interface = &loaded(&[v3(
        id,
        json!([property("p", json!("double")), {"@type": "Property", "name": "w", "schema": "double", "writable": true}]),
    )])[0];
    assert!(!interface.property("p").expect("declared").writable);
    assert!(interface.property("w").expect("declared").writable);
}

#[test]
fn v2_limits_direct_extends_to_2_and_contents_to_300() {
    let id = "dtmi:a:A;1";
    let parents = ["dtmi:a:P;1", "dtmi:a:Q;1", "dtmi:a:R;1"];
    let mut models: Vec<Value> = parents.iter().map(|parent| v2(parent, json!([]))).collect();
    models.push(with(v2(id, json!([])), "extends", json!(parents)));
    assert_refused(&models, id, "$.extends", |kind| {
        *kind
            == ProblemKind::LimitExceeded {
                what: "direct `extends` count",
                count: 3,
                max: 2,
            }
    });

    let contents: Vec<Value> = (0..=V2_CONTENTS_MAX)
        .map(|i| property(&format!("p{i}"), json!("double")))
        .collect();
    assert_refused(&[v2(id, json!(contents))], id, "$.contents", |kind| {
        *kind
            == ProblemKind::LimitExceeded {
                what: "contents count",
                count: 301,
                max: 300,
            }
    });
    loaded(&[v3(id, json!(contents))]);
}

#[test]
fn v3_limits_elements_to_100000_and_every_model_to_1_mib() {
    let id = "dtmi:a:A;1";
    let values: Vec<Value> = (0..V3_ELEMENTS_MAX)
        .map(|i| json!({"name": format!("v{i}"), "enumValue": i}))
        .collect();
    let huge = v3(
        id,
        json!([property(
            "e",
            json!({"@type": "Enum", "valueSchema": "integer", "enumValues": values})
        )]),
    );
    let found = problems(&[huge]);
    assert!(found.iter().any(|problem| problem.kind
        == ProblemKind::LimitExceeded {
            what: "elements in the Interface",
            count: V3_ELEMENTS_MAX + 3,
            max: V3_ELEMENTS_MAX
        }));
    assert!(found.iter().any(|problem| matches!(
        problem.kind,
        ProblemKind::LimitExceeded {
            what: "model size in bytes",
            max: INTERFACE_BYTES_MAX,
            ..
        }
    )));

    let description = "d".repeat(DESCRIPTION_CHARS_MAX);
    let contents: Vec<Value> = (0..2100).map(|i| json!({"@type": "Property", "name": format!("p{i}"), "schema": "double", "description": description})).collect();
    assert_refused(&[v2(id, json!(contents))], id, "$", |kind| {
        matches!(
            kind,
            ProblemKind::LimitExceeded {
                what: "model size in bytes",
                ..
            }
        )
    });
}

#[test]
fn invalid_dtmis_in_references_are_reported_where_they_are() {
    let id = "dtmi:a:A;1";
    let target = json!([{"@type": "Relationship", "name": "r", "target": "dtmi:a:B"}]);
    assert_refused(&[v2(id, target)], id, "$.contents[0].target", |kind| {
        matches!(
            kind,
            ProblemKind::InvalidDtmi {
                reason: DtmiError::MissingVersion,
                ..
            }
        )
    });
    let parent = with(
        v3(id, json!([])),
        "extends",
        json!(["dtmi:a:P;1", "dtmi:a:1P;1"]),
    );
    assert_refused(&[parent], id, "$.extends[1]", |kind| {
        matches!(kind, ProblemKind::InvalidDtmi { .. })
    });
}

#[test]
fn every_problem_of_an_upload_is_listed() {
    let first = v3(
        "dtmi:a:A;1",
        json!([
            property("1bad", json!("double")),
            property("p", json!("nothing"))
        ]),
    );
    let second = with(v3("dtmi:a:B;1", json!([])), "displayName", json!(7));
    let found = problems(&[first, second]);
    let places: Vec<(&str, &str)> = found
        .iter()
        .map(|problem| (problem.model.as_str(), problem.path.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            ("dtmi:a:A;1", "$.contents[0].name"),
            ("dtmi:a:A;1", "$.contents[1].schema"),
            ("dtmi:a:B;1", "$.displayName")
        ]
    );
}
