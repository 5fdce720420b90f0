//! Building one resolved Interface from its definition, once those it needs are built:
//! inheritance flattened, schemas resolved, and the rules that need the whole picture checked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::content::{Command, Content, Property, Relationship, Telemetry};
use crate::context::DtdlVersion;
use crate::dtmi::Dtmi;
use crate::error::{Problem, ProblemKind};
use crate::interface::parse::{ContentDef, InterfaceDef};
use crate::interface::{Interface, Member};
use crate::limits::{EXTENDS_DEPTH_MAX, V3_EXTENDS_HIERARCHY_INTERFACES_MAX};
use crate::path;
use crate::schema::{find_array, Resolution, Schema, SchemaResolver};
use crate::Lookup;

pub struct Builder<'a, L> {
    pub stored: &'a L,
    pub index: &'a HashMap<Dtmi, usize>,
    pub defs: &'a [InterfaceDef],
    pub batch_schemas: &'a BTreeMap<Dtmi, Schema>,
    pub schema_owners: &'a HashMap<&'a Dtmi, &'a Dtmi>,
    pub resolved: HashMap<Dtmi, Arc<Interface>>,
    pub problems: &'a mut Vec<Problem>,
}

impl<L: Lookup> Builder<'_, L> {
    /// An Interface this upload has built, or a stored one. `None` for one of the upload that
    /// failed or is on a cycle, or one that is nowhere: each was reported where it went wrong.
    fn get(&self, id: &Dtmi) -> Option<Arc<Interface>> {
        self.resolved.get(id).cloned().or_else(|| {
            if self.index.contains_key(id) {
                None
            } else {
                self.stored.interface(id)
            }
        })
    }

    fn report(&mut self, def: &InterfaceDef, at: String, kind: ProblemKind) {
        self.problems.push(Problem {
            model: def.model.clone(),
            path: at,
            kind,
        });
    }

    /// `None` when a rule is broken (reported) or something it needs was not built.
    pub fn build(&mut self, def: &InterfaceDef) -> Option<Interface> {
        let problems_before = self.problems.len();
        let parents = self.parents(def)?;
        let (extends_depth, bases) = self.hierarchy(def, &parents);
        let (mut members, mut component_interfaces) = self.inherit(def, &parents);

        let base_interfaces: Vec<Arc<Interface>> =
            bases.iter().filter_map(|base| self.get(base)).collect();
        let mut sources: Vec<&BTreeMap<Dtmi, Schema>> = vec![&def.schemas];
        sources.extend(base_interfaces.iter().map(|base| &base.schemas));
        sources.push(self.batch_schemas);
        let resolver = SchemaResolver { sources };
        let mut found = Resolution::default();
        let schemas: BTreeMap<Dtmi, Schema> = def
            .schema_paths
            .iter()
            .filter_map(|(id, at)| {
                let schema = resolver.resolve(def.schemas.get(id)?, at, &mut found)?;
                Some((id.clone(), schema))
            })
            .collect();
        let resolved: Vec<Option<Arc<Content>>> = def
            .contents
            .iter()
            .map(|content| {
                resolve_content(content, &resolver, def.version, &mut found).map(Arc::new)
            })
            .collect();
        for (at, kind) in std::mem::take(&mut found.problems) {
            self.report(def, at, kind);
        }

        let mut dependencies: BTreeSet<Dtmi> =
            def.extends.iter().map(|(id, _)| id.clone()).collect();
        for referenced in &found.references {
            if let Some(owner) = self.schema_owners.get(referenced) {
                dependencies.insert((*owner).clone());
            }
        }
        let mut contents = Vec::with_capacity(def.contents.len());
        for (content, content_def) in resolved.into_iter().zip(&def.contents) {
            let Some(content) = content else {
                continue;
            };
            let name = content.name().to_owned();
            if let Some(Member { defined_in, .. }) = members.get(&name) {
                let by = if *defined_in == def.id {
                    "by another content of this Interface".to_owned()
                } else {
                    format!("by the content inherited from `{defined_in}`")
                };
                let at = path::key(&content_def.at, "name");
                self.report(def, at, ProblemKind::DuplicateName { name, by });
                continue;
            }
            match &*content {
                Content::Component(component) => {
                    dependencies.insert(component.schema.clone());
                    let interface = self.get(&component.schema)?;
                    self.check_component(def, &interface, path::key(&content_def.at, "schema"));
                    component_interfaces.insert(interface.id.clone(), interface);
                }
                Content::Relationship(Relationship {
                    target: Some(target),
                    ..
                }) => {
                    dependencies.insert(target.clone());
                }
                _ => {}
            }
            let member = Member {
                content: content.clone(),
                defined_in: def.id.clone(),
            };
            members.insert(name, member);
            contents.push(content);
        }
        let dependencies = self.models_among(dependencies, &def.id);
        if self.problems.len() > problems_before {
            return None;
        }
        Some(Interface {
            id: def.id.clone(),
            version: def.version,
            display_name: def.display_name.clone(),
            description: def.description.clone(),
            extends: def.extends.iter().map(|(id, _)| id.clone()).collect(),
            contents,
            schemas,
            members,
            component_interfaces,
            bases,
            extends_depth,
            dependencies,
        })
    }

    /// The built parents, each with where it is named. A v2 Interface may not extend a v3 one.
    fn parents<'d>(&mut self, def: &'d InterfaceDef) -> Option<Vec<(Arc<Interface>, &'d String)>> {
        let mut parents = Vec::with_capacity(def.extends.len());
        for (id, at) in &def.extends {
            let parent = self.get(id)?;
            if def.version == DtdlVersion::V2 && parent.version == DtdlVersion::V3 {
                let kind = ProblemKind::VersionMix {
                    role: "extends",
                    id: id.to_string(),
                };
                self.report(def, at.clone(), kind);
            }
            parents.push((parent, at));
        }
        Some(parents)
    }

    /// The `extends` depth and every Interface above, within their limits.
    fn hierarchy(
        &mut self,
        def: &InterfaceDef,
        parents: &[(Arc<Interface>, &String)],
    ) -> (usize, BTreeSet<Dtmi>) {
        let extends_depth = parents
            .iter()
            .map(|(parent, _)| parent.extends_depth + 1)
            .max()
            .unwrap_or(0);
        let extends_at = path::key(&def.at, "extends");
        if extends_depth > EXTENDS_DEPTH_MAX {
            let kind = ProblemKind::LimitExceeded {
                what: "`extends` depth",
                count: extends_depth,
                max: EXTENDS_DEPTH_MAX,
            };
            self.report(def, extends_at.clone(), kind);
        }
        let mut bases = BTreeSet::new();
        for (parent, _) in parents {
            bases.insert(parent.id.clone());
            bases.extend(parent.bases.iter().cloned());
        }
        if def.version == DtdlVersion::V3 && bases.len() > V3_EXTENDS_HIERARCHY_INTERFACES_MAX {
            let kind = ProblemKind::LimitExceeded {
                what: "Interfaces in the `extends` hierarchy",
                count: bases.len(),
                max: V3_EXTENDS_HIERARCHY_INTERFACES_MAX,
            };
            self.report(def, extends_at, kind);
        }
        (extends_depth, bases)
    }

    /// The members and component Interfaces of all parents. A name reached through two
    /// parents is a clash unless both lead to the same declaration (a diamond).
    fn inherit(
        &mut self,
        def: &InterfaceDef,
        parents: &[(Arc<Interface>, &String)],
    ) -> (BTreeMap<String, Member>, BTreeMap<Dtmi, Arc<Interface>>) {
        let mut members: BTreeMap<String, Member> = BTreeMap::new();
        let mut component_interfaces = BTreeMap::new();
        for (parent, at) in parents {
            component_interfaces.extend(
                parent
                    .component_interfaces
                    .iter()
                    .map(|(id, interface)| (id.clone(), interface.clone())),
            );
            for (name, member) in &parent.members {
                match members.get(name) {
                    Some(Member { defined_in, .. }) if *defined_in == member.defined_in => {}
                    Some(Member { defined_in, .. }) => {
                        let by = format!(
                            "by `{defined_in}` and by `{}`, both inherited",
                            member.defined_in
                        );
                        let kind = ProblemKind::DuplicateName {
                            name: name.clone(),
                            by,
                        };
                        self.report(def, (*at).clone(), kind);
                    }
                    None => {
                        members.insert(name.clone(), member.clone());
                    }
                }
            }
        }
        (members, component_interfaces)
    }

    fn check_component(&mut self, def: &InterfaceDef, interface: &Interface, at: String) {
        if def.version == DtdlVersion::V2 && interface.version == DtdlVersion::V3 {
            self.report(
                def,
                at.clone(),
                ProblemKind::VersionMix {
                    role: "component schema",
                    id: interface.id.to_string(),
                },
            );
        }
        if def.version == DtdlVersion::V3 {
            if let Some(nested) = interface.components().next() {
                let kind = ProblemKind::NestedComponent {
                    interface: interface.id.to_string(),
                    component: nested.name.clone(),
                };
                self.report(def, at, kind);
            }
        }
    }

    /// Inline Interfaces are not models, so each is replaced by the models it depends on.
    fn models_among(&self, dependencies: BTreeSet<Dtmi>, own: &Dtmi) -> BTreeSet<Dtmi> {
        let mut models = BTreeSet::new();
        for id in dependencies {
            let inline = self
                .index
                .get(&id)
                .is_some_and(|node| self.defs[*node].inline);
            if inline {
                if let Some(interface) = self.resolved.get(&id) {
                    models.extend(interface.dependencies.iter().cloned());
                }
            } else {
                models.insert(id);
            }
        }
        models.remove(own);
        models
    }
}

/// A content with its schemas resolved, and DTDL v2's rule against Arrays in Properties.
fn resolve_content(
    content: &ContentDef,
    resolver: &SchemaResolver<'_>,
    version: DtdlVersion,
    found: &mut Resolution,
) -> Option<Content> {
    let at = &content.at;
    let property = |property: &Property, at: &str, found: &mut Resolution| {
        let schema_at = path::key(at, "schema");
        let schema = resolver.resolve(&property.schema, &schema_at, found)?;
        if version == DtdlVersion::V2 {
            if let Some(array_at) = find_array(&schema, &schema_at) {
                found
                    .problems
                    .push((array_at, ProblemKind::ArrayInV2Property));
                return None;
            }
        }
        Some(Property {
            schema,
            ..property.clone()
        })
    };
    match &content.content {
        Content::Property(own) => property(own, at, found).map(Content::Property),
        Content::Telemetry(telemetry) => {
            let schema = resolver.resolve(&telemetry.schema, &path::key(at, "schema"), found)?;
            Some(Content::Telemetry(Telemetry {
                schema,
                ..telemetry.clone()
            }))
        }
        Content::Relationship(relationship) => {
            let properties: Vec<Option<Property>> = relationship
                .properties
                .iter()
                .zip(&content.property_paths)
                .map(|(own, property_at)| property(own, property_at, found))
                .collect();
            Some(Content::Relationship(Relationship {
                properties: properties.into_iter().collect::<Option<_>>()?,
                ..relationship.clone()
            }))
        }
        Content::Component(_) => Some(content.content.clone()),
        Content::Command(command) => {
            let mut payload = |schema: &Option<Schema>, which: &str| match schema {
                Some(schema) => resolver
                    .resolve(schema, &path::key(&path::key(at, which), "schema"), found)
                    .map(Some),
                None => Some(None),
            };
            let request = payload(&command.request, "request");
            let response = payload(&command.response, "response");
            Some(Content::Command(Command {
                request: request?,
                response: response?,
                ..command.clone()
            }))
        }
    }
}
