//! Resolving an upload: one definition per Interface, each identifier once, every reference
//! found in the upload or among the stored models, no cycles, then each Interface built
//! after those it needs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::content::Content;
use crate::dtmi::Dtmi;
use crate::error::{DtdlError, Problem, ProblemKind};
use crate::interface::parse::{parse_model, InterfaceDef};
use crate::interface::Interface;
use crate::path;
use crate::schema::Schema;
use crate::Lookup;

mod build;
mod graph;
#[cfg(test)]
mod tests;

use graph::{Dependency, Edge};

/// Parses, resolves and validates an upload, all or nothing: the resolved Interfaces in the
/// order of `models`, or every problem found. `stored` holds the models uploaded before; an
/// upload may refer to them but not redefine them.
pub fn parse_batch(
    models: &[Value],
    stored: &impl Lookup,
) -> Result<Vec<Arc<Interface>>, DtdlError> {
    let mut problems = Vec::new();
    let mut defs: Vec<InterfaceDef> = Vec::new();
    let mut top_level = Vec::with_capacity(models.len());
    for (position, model) in models.iter().enumerate() {
        let parsed = parse_model(model, position, &mut problems);
        if !parsed.is_empty() {
            top_level.push(defs.len());
        }
        defs.extend(parsed);
    }
    let index = index_definitions(&defs, stored, &mut problems);
    let edges = check_references(&defs, &index, stored, &mut problems);
    let (order, cycles) = graph::order(&edges);
    for cycle in cycles {
        report_cycle(&defs, &edges, &cycle, &mut problems);
    }
    let batch_schemas: BTreeMap<Dtmi, Schema> = defs
        .iter()
        .flat_map(|def| {
            def.schemas
                .iter()
                .map(|(id, schema)| (id.clone(), schema.clone()))
        })
        .collect();
    let schema_owners: HashMap<&Dtmi, &Dtmi> = defs
        .iter()
        .flat_map(|def| def.schemas.keys().map(move |id| (id, &def.id)))
        .collect();
    let mut builder = build::Builder {
        stored,
        index: &index,
        defs: &defs,
        batch_schemas: &batch_schemas,
        schema_owners: &schema_owners,
        resolved: HashMap::new(),
        problems: &mut problems,
    };
    for node in order {
        if let Some(interface) = builder.build(&defs[node]) {
            builder
                .resolved
                .insert(defs[node].id.clone(), Arc::new(interface));
        }
    }
    let resolved = builder.resolved;
    if !problems.is_empty() {
        return Err(DtdlError { problems });
    }
    // Every definition that fails to build has reported a problem (or depends on one that
    // has), so with no problem reported every model is here.
    let interfaces: Vec<Arc<Interface>> = top_level
        .into_iter()
        .filter_map(|node| resolved.get(&defs[node].id).cloned())
        .collect();
    debug_assert_eq!(interfaces.len(), models.len());
    Ok(interfaces)
}

/// Each definition by identifier. A repeat within the upload, or an identifier already
/// stored, is a problem; the first definition is the one kept.
fn index_definitions(
    defs: &[InterfaceDef],
    stored: &impl Lookup,
    problems: &mut Vec<Problem>,
) -> HashMap<Dtmi, usize> {
    let mut index = HashMap::with_capacity(defs.len());
    for (node, def) in defs.iter().enumerate() {
        let at = path::key(&def.at, "@id");
        let id = def.id.to_string();
        if stored.interface(&def.id).is_some() {
            problems.push(Problem {
                model: def.model.clone(),
                path: at,
                kind: ProblemKind::ModelAlreadyExists { id },
            });
        } else if index.insert(def.id.clone(), node).is_some() {
            problems.push(Problem {
                model: def.model.clone(),
                path: at,
                kind: ProblemKind::DuplicateModel { id },
            });
        }
    }
    index
}

/// Reports references found neither in the upload nor stored, and returns, per definition,
/// the definitions of the upload it needs built first.
fn check_references(
    defs: &[InterfaceDef],
    index: &HashMap<Dtmi, usize>,
    stored: &impl Lookup,
    problems: &mut Vec<Problem>,
) -> Vec<Vec<Dependency>> {
    let mut edges = vec![Vec::new(); defs.len()];
    for (node, def) in defs.iter().enumerate() {
        let components = def
            .contents
            .iter()
            .filter_map(|content| match &content.content {
                Content::Component(component) => Some((
                    &component.schema,
                    path::key(&content.at, "schema"),
                    Some(Edge::Component),
                    "component schema",
                )),
                Content::Relationship(relationship) => relationship.target.as_ref().map(|target| {
                    (
                        target,
                        path::key(&content.at, "target"),
                        None,
                        "relationship target",
                    )
                }),
                _ => None,
            });
        let parents = def
            .extends
            .iter()
            .map(|(id, at)| (id, at.clone(), Some(Edge::Extends), "extends"));
        for (id, at, edge, role) in parents.chain(components) {
            match (index.get(id), edge) {
                (Some(&target), Some(edge)) => edges[node].push(Dependency { target, edge, at }),
                (Some(_), None) => {}
                (None, _) if stored.interface(id).is_some() => {}
                (None, _) => problems.push(Problem {
                    model: def.model.clone(),
                    path: at,
                    kind: ProblemKind::Unresolved {
                        role,
                        id: id.to_string(),
                    },
                }),
            }
        }
    }
    edges
}

fn report_cycle(
    defs: &[InterfaceDef],
    edges: &[Vec<Dependency>],
    cycle: &graph::Cycle,
    problems: &mut Vec<Problem>,
) {
    let Some(&closing_node) = cycle.nodes.iter().rev().nth(1) else {
        return;
    };
    let def = &defs[closing_node];
    let ids = cycle
        .nodes
        .iter()
        .map(|node| defs[*node].id.to_string())
        .collect();
    let kind = if cycle.edges.iter().all(|edge| *edge == Edge::Extends) {
        ProblemKind::ExtendsCycle { cycle: ids }
    } else {
        ProblemKind::ComponentCycle { cycle: ids }
    };
    let at = edges[closing_node]
        .get(cycle.closing)
        .map_or_else(|| def.at.clone(), |dependency| dependency.at.clone());
    problems.push(Problem {
        model: def.model.clone(),
        path: at,
        kind,
    });
}
