//! Primitive names per version, reference resolution and the Array search, in isolation.

use std::collections::BTreeMap;

use super::*;
use crate::error::ProblemKind;

fn dtmi(text: &str) -> Dtmi {
    text.parse().expect("a valid DTMI")
}

fn array_of(element: Schema) -> Schema {
    Schema::Array(Box::new(ArraySchema { id: None, element }))
}

#[test]
fn primitive_names_depend_on_the_version() {
    for primitive in V2_PRIMITIVES {
        assert_eq!(
            Primitive::from_name(primitive.name(), DtdlVersion::V2),
            Some(primitive)
        );
        assert_eq!(
            Primitive::from_name(primitive.name(), DtdlVersion::V3),
            Some(primitive)
        );
    }
    for primitive in V3_ADDED_PRIMITIVES {
        assert_eq!(
            Primitive::from_name(primitive.name(), DtdlVersion::V2),
            None
        );
        assert_eq!(
            Primitive::from_name(primitive.name(), DtdlVersion::V3),
            Some(primitive)
        );
    }
    assert_eq!(Primitive::from_name("Double", DtdlVersion::V3), None);
}

#[test]
fn references_are_replaced_from_the_first_source_that_has_them() {
    let own = BTreeMap::from([(
        dtmi("dtmi:a:S;1"),
        array_of(Schema::Primitive(Primitive::Long)),
    )]);
    let other = BTreeMap::from([(
        dtmi("dtmi:a:S;1"),
        array_of(Schema::Primitive(Primitive::String)),
    )]);
    let resolver = SchemaResolver {
        sources: vec![&own, &other],
    };
    let mut found = Resolution::default();
    let resolved = resolver.resolve(
        &array_of(Schema::Reference(dtmi("dtmi:a:S;1"))),
        "$",
        &mut found,
    );
    assert_eq!(
        resolved,
        Some(array_of(array_of(Schema::Primitive(Primitive::Long))))
    );
    assert!(found.problems.is_empty());
    assert!(found.references.contains(&dtmi("dtmi:a:S;1")));

    let missing = resolver.resolve(
        &Schema::Reference(dtmi("dtmi:a:Gone;1")),
        "$.schema",
        &mut found,
    );
    assert_eq!(missing, None);
    assert_eq!(
        found.problems,
        [(
            "$.schema".to_owned(),
            ProblemKind::Unresolved {
                role: "schema",
                id: "dtmi:a:Gone;1".to_owned()
            }
        )]
    );
}

#[test]
fn the_first_array_is_found_through_objects_and_maps() {
    let map = Schema::Map(Box::new(MapSchema {
        id: None,
        key_name: "k".into(),
        value_name: "v".into(),
        value: array_of(Schema::Primitive(Primitive::Double)),
    }));
    let object = Schema::Object(Box::new(ObjectSchema {
        id: None,
        fields: vec![
            Field {
                name: "plain".into(),
                schema: Schema::Primitive(Primitive::Double),
            },
            Field {
                name: "map".into(),
                schema: map,
            },
        ],
    }));
    assert_eq!(
        find_array(&object, "$").as_deref(),
        Some("$.fields[1].schema.mapValue.schema")
    );
    assert_eq!(find_array(&Schema::Primitive(Primitive::Double), "$"), None);
}
