//! The published RealEstateCore (DTDL v3) and EnergyGrid (DTDL v2) ontologies against the
//! parser. They live in `shared/dtdl/` beside the repository; a missing directory fails.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use twinlog_dtdl::{parse_batch, Dtmi, Interface, ProblemKind};

const REAL_ESTATE_CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/dtdl/realestatecore"
);
const ENERGY_GRID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/dtdl/energygrid");
const QUANTITATIVE_TYPES: &str = "dtmi:dtdl:extension:quantitativeTypes;1";
const BATCH_MODELS_MAX: usize = 100;

/// Every `.json` file under `dir`, parsed, sorted by path so runs are repeatable.
fn load_models(dir: &str) -> Vec<Value> {
    let mut files = Vec::new();
    collect_json_files(Path::new(dir), &mut files);
    files.sort();
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            serde_json::from_str(text.trim_start_matches('\u{feff}'))
                .unwrap_or_else(|e| panic!("parse {}: {e}", file.display()))
        })
        .collect()
}

fn collect_json_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("ontology directory {} is required: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_json_files(&path, files);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            files.push(path);
        }
    }
}

fn id_of(model: &Value) -> String {
    model["@id"]
        .as_str()
        .expect("every ontology model has an @id")
        .to_owned()
}

fn has_type(element: &Value, class: &str) -> bool {
    match &element["@type"] {
        Value::String(name) => name == class,
        Value::Array(names) => names.iter().any(|name| name == class),
        _ => false,
    }
}

/// The DTMIs a model names as parents, component schemas and relationship targets.
fn references(model: &Value) -> Vec<String> {
    let mut found: Vec<String> = match &model["extends"] {
        Value::String(id) => vec![id.clone()],
        Value::Array(ids) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    for content in model["contents"].as_array().into_iter().flatten() {
        if has_type(content, "Component") {
            found.extend(content["schema"].as_str().map(str::to_owned));
        }
        if has_type(content, "Relationship") {
            found.extend(content["target"].as_str().map(str::to_owned));
        }
    }
    found
}

fn no_stored_models() -> HashMap<Dtmi, Arc<Interface>> {
    HashMap::new()
}

#[test]
fn realestatecore_loads_in_one_upload() {
    let models = load_models(REAL_ESTATE_CORE);
    assert_eq!(models.len(), 767);
    let interfaces = parse_batch(&models, &no_stored_models()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(interfaces.len(), 767);
    for (model, interface) in models.iter().zip(&interfaces) {
        assert_eq!(interface.id().as_str(), id_of(model));
        assert_eq!(interface.version().number(), 3);
    }

    let quantitative: Vec<&Arc<Interface>> = models
        .iter()
        .zip(&interfaces)
        .filter(|(model, _)| {
            model["@context"]
                .as_array()
                .is_some_and(|context| context.iter().any(|c| c == QUANTITATIVE_TYPES))
        })
        .map(|(_, interface)| interface)
        .collect();
    assert_eq!(quantitative.len(), 41);
    let semantic = quantitative
        .iter()
        .flat_map(|interface| interface.properties())
        .filter(|property| !property.co_types.is_empty())
        .collect::<Vec<_>>();
    assert!(!semantic.is_empty());
    assert!(
        semantic.iter().all(|property| property.unit.is_some()),
        "every semantically typed property has its unit"
    );
}

#[test]
fn realestatecore_flattens_inheritance_and_resolves_every_reference() {
    let models = load_models(REAL_ESTATE_CORE);
    let interfaces = parse_batch(&models, &no_stored_models()).unwrap_or_else(|e| panic!("{e}"));
    let by_id: HashMap<&str, &Arc<Interface>> = interfaces
        .iter()
        .map(|interface| (interface.id().as_str(), interface))
        .collect();
    for (model, interface) in models.iter().zip(&interfaces) {
        for reference in references(model) {
            assert!(
                by_id.contains_key(reference.as_str()),
                "{reference} resolves"
            );
            let own = reference == interface.id().as_str();
            assert_eq!(
                interface
                    .dependencies()
                    .iter()
                    .any(|dependency| dependency.as_str() == reference),
                !own,
                "{reference}"
            );
        }
        for parent in interface.extends() {
            let parent = by_id[parent.as_str()];
            assert!(interface.is_a(parent.id()));
            assert!(
                parent
                    .members()
                    .keys()
                    .all(|name| interface.members().contains_key(name)),
                "{} inherits all of {}",
                interface.id(),
                parent.id()
            );
        }
    }
}

/// Packs the models into uploads of at most 100, each after every model it refers to, except
/// that models referring to each other (a relationship cycle) must share one upload.
fn uploads_in_dependency_order(models: &[Value]) -> Vec<Vec<Value>> {
    let ids: HashMap<String, usize> = models
        .iter()
        .enumerate()
        .map(|(i, model)| (id_of(model), i))
        .collect();
    let edges: Vec<Vec<usize>> = models
        .iter()
        .map(|model| {
            references(model)
                .iter()
                .filter_map(|id| ids.get(id).copied())
                .collect()
        })
        .collect();
    let components = strongly_connected_components(&edges);
    let mut uploads: Vec<Vec<Value>> = vec![Vec::new()];
    for component in components {
        let current = uploads.last_mut().expect("one upload at least");
        if !current.is_empty() && current.len() + component.len() > BATCH_MODELS_MAX {
            uploads.push(Vec::new());
        }
        let current = uploads.last_mut().expect("one upload at least");
        current.extend(component.into_iter().map(|node| models[node].clone()));
    }
    uploads
}

/// Tarjan's algorithm, which yields each component after every component it points at.
fn strongly_connected_components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, node: usize) {
        state.index[node] = Some(state.next);
        state.low[node] = state.next;
        state.next += 1;
        state.stack.push(node);
        state.on_stack[node] = true;
        for &target in &state.edges[node] {
            match state.index[target] {
                None => {
                    visit(state, target);
                    state.low[node] = state.low[node].min(state.low[target]);
                }
                Some(target_index) if state.on_stack[target] => {
                    state.low[node] = state.low[node].min(target_index)
                }
                Some(_) => {}
            }
        }
        if Some(state.low[node]) == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack[member] = false;
                component.push(member);
                if member == node {
                    break;
                }
            }
            state.components.push(component);
        }
    }
    let mut state = State {
        edges,
        index: vec![None; edges.len()],
        low: vec![0; edges.len()],
        on_stack: vec![false; edges.len()],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for node in 0..edges.len() {
        if state.index[node].is_none() {
            visit(&mut state, node);
        }
    }
    state.components
}

#[test]
fn realestatecore_loads_in_uploads_of_100_against_stored_models() {
    let models = load_models(REAL_ESTATE_CORE);
    let uploads = uploads_in_dependency_order(&models);
    assert!(
        uploads.len() >= 8,
        "767 models make at least 8 uploads, got {}",
        uploads.len()
    );
    let mut stored: HashMap<Dtmi, Arc<Interface>> = HashMap::new();
    for upload in &uploads {
        assert!(upload.len() <= BATCH_MODELS_MAX || uploads.len() == 1);
        let interfaces = parse_batch(upload, &stored).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(interfaces.len(), upload.len());
        stored.extend(
            interfaces
                .into_iter()
                .map(|interface| (interface.id().clone(), interface)),
        );
    }
    assert_eq!(stored.len(), 767);

    let at_once = parse_batch(&models, &no_stored_models()).unwrap_or_else(|e| panic!("{e}"));
    for interface in &at_once {
        let batched = &stored[interface.id()];
        let names = |interface: &Interface| interface.members().keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(batched), names(interface));
        assert_eq!(batched.bases(), interface.bases());
        assert_eq!(batched.dependencies(), interface.dependencies());
    }

    let again =
        parse_batch(&uploads[0], &stored).expect_err("stored models cannot be uploaded again");
    assert!(again
        .problems
        .iter()
        .all(|problem| matches!(problem.kind, ProblemKind::ModelAlreadyExists { .. })));
    assert_eq!(again.problems.len(), uploads[0].len());
}

/// Relationship targets that no EnergyGrid file defines, with how often each is named.
fn energygrid_undefined_targets(models: &[Value]) -> BTreeMap<String, usize> {
    let defined: BTreeSet<String> = models.iter().map(id_of).collect();
    let mut undefined = BTreeMap::new();
    for model in models {
        for content in model["contents"].as_array().into_iter().flatten() {
            if let Some(target) = content["target"]
                .as_str()
                .filter(|_| has_type(content, "Relationship"))
            {
                if !defined.contains(target) {
                    *undefined.entry(target.to_owned()).or_insert(0) += 1;
                }
            }
        }
    }
    undefined
}

#[test]
fn energygrid_as_published_is_refused_listing_every_unresolved_target() {
    let models = load_models(ENERGY_GRID);
    assert_eq!(models.len(), 113);
    let undefined = energygrid_undefined_targets(&models);
    let references: usize = undefined.values().sum();
    // 23 relationships name 20 distinct Interfaces that the ontology never defines.
    assert_eq!((undefined.len(), references), (20, 23));

    let error =
        parse_batch(&models, &no_stored_models()).expect_err("dangling relationship targets");
    let mut reported = BTreeMap::new();
    for problem in &error.problems {
        let ProblemKind::Unresolved {
            role: "relationship target",
            id,
        } = &problem.kind
        else {
            panic!("only dangling targets are wrong in EnergyGrid, got: {problem}");
        };
        assert!(
            problem.path.starts_with("$.contents[") && problem.path.ends_with("].target"),
            "{}",
            problem.path
        );
        *reported.entry(id.clone()).or_insert(0) += 1;
    }
    assert_eq!(reported, undefined);
    let message = error.to_string();
    assert!(message.starts_with("23 DTDL problems:"), "{message}");
    for id in undefined.keys() {
        assert!(message.contains(id.as_str()), "the message names {id}");
    }
}

#[test]
fn energygrid_loads_with_stubs_for_the_missing_targets() {
    let mut models = load_models(ENERGY_GRID);
    let undefined = energygrid_undefined_targets(&models);
    models.extend(
        undefined
            .keys()
            .map(|id| json!({"@context": "dtmi:dtdl:context;2", "@id": id, "@type": "Interface"})),
    );
    let interfaces = parse_batch(&models, &no_stored_models()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(interfaces.len(), 113 + 20);
    assert!(interfaces
        .iter()
        .all(|interface| interface.version().number() == 2));
    let voltage = interfaces
        .iter()
        .flat_map(|interface| interface.contents())
        .filter_map(|content| match content {
            twinlog_dtdl::Content::Property(property) if property.co_types == ["Voltage"] => {
                Some(property)
            }
            _ => None,
        })
        .count();
    assert_eq!(voltage, 1, "the v2 semantic type Voltage is accepted");
}
