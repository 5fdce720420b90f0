//! ADT's rules that the grammar alone cannot express: limits on JOINs and on AND/OR, which
//! aliases exist and whether each stands for twins or relationships, unique result keys, and
//! what a JOIN demands of SELECT and WHERE. It also resolves each path's first segment into its
//! alias.

use super::ast::{Collection, CompareOp, Expr, Path, Projection, Query, SelectItem};
use super::error::QueryError;
use super::limits::{AND_OR_MAX, JOINS_MAX};

/// Checks `query` and resolves its paths in place.
pub(super) fn check(query: &mut Query) -> Result<(), QueryError> {
    if query.joins.len() > JOINS_MAX {
        return Err(QueryError::TooManyJoins {
            count: query.joins.len(),
            joins_max: JOINS_MAX,
        });
    }
    let and_or = query.filter.as_ref().map_or(0, and_or_count);
    if and_or > AND_OR_MAX {
        return Err(QueryError::TooManyAndOr {
            count: and_or,
            and_or_max: AND_OR_MAX,
        });
    }
    let aliases = declared_aliases(query)?;
    for join in &query.joins {
        known(&aliases, &join.source)?;
    }
    if let Projection::Items(items) = &mut query.select.projection {
        for item in items.iter_mut() {
            resolve(&aliases, &mut item.path)?;
        }
        check_output_names(items)?;
    }
    if let Some(filter) = &mut query.filter {
        resolve_expr(&aliases, filter)?;
    }
    if let Some(filter) = &query.filter {
        check_is_of_model(query, filter)?;
    }
    if query.joins.is_empty() {
        return Ok(());
    }
    if query.source.collection == Collection::Relationships {
        return Err(QueryError::JoinFromRelationships);
    }
    check_join_sources(query)?;
    if query.select.projection == Projection::All {
        return Err(QueryError::SelectAllWithJoin);
    }
    // A JOIN's source alias is known, so the root alias exists.
    let root = query.source.alias.clone().unwrap_or_default();
    let filtered = query
        .filter
        .as_ref()
        .is_some_and(|filter| conjuncts(filter).iter().any(|e| is_dt_id_filter(e, &root)));
    if filtered {
        Ok(())
    } else {
        Err(QueryError::JoinWithoutDtIdFilter { root })
    }
}

/// The FROM alias, then each JOIN's target and relationship alias, in order; no repeats.
fn declared_aliases(query: &Query) -> Result<Vec<String>, QueryError> {
    let joined = query
        .joins
        .iter()
        .flat_map(|join| std::iter::once(&join.target).chain(&join.relationship_alias));
    let mut aliases: Vec<String> = Vec::new();
    for alias in query.source.alias.iter().chain(joined) {
        if aliases.contains(alias) {
            return Err(QueryError::DuplicateAlias {
                alias: alias.clone(),
            });
        }
        aliases.push(alias.clone());
    }
    Ok(aliases)
}

/// Each JOIN starts from a twin alias declared before it: the FROM alias (of twins) or an
/// earlier JOIN's target.
fn check_join_sources(query: &Query) -> Result<(), QueryError> {
    let mut twins: Vec<&String> = Vec::new();
    if query.source.collection == Collection::DigitalTwins {
        twins.extend(&query.source.alias);
    }
    for join in &query.joins {
        if !twins.contains(&&join.source) {
            return Err(QueryError::InvalidJoinSource {
                alias: join.source.clone(),
                relationship: join.relationship.clone(),
            });
        }
        twins.push(&join.target);
    }
    Ok(())
}

/// Two items with the same key would overwrite each other in every result.
fn check_output_names(items: &[SelectItem]) -> Result<(), QueryError> {
    for (at, item) in items.iter().enumerate() {
        let name = item.output_name();
        if items[..at]
            .iter()
            .any(|earlier| earlier.output_name() == name)
        {
            return Err(QueryError::DuplicateOutputName {
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// `IS_OF_MODEL` asks about a twin: its alias (the FROM collection when it names none) must
/// stand for twins, not relationships.
fn check_is_of_model(query: &Query, expr: &Expr) -> Result<(), QueryError> {
    match expr {
        Expr::And(terms) | Expr::Or(terms) => terms
            .iter()
            .try_for_each(|term| check_is_of_model(query, term)),
        Expr::Not(inner) => check_is_of_model(query, inner),
        Expr::IsOfModel { alias, .. } => {
            let relationships = match alias {
                None => query.source.collection == Collection::Relationships,
                Some(alias) => {
                    (query.source.collection == Collection::Relationships
                        && query.source.alias.as_ref() == Some(alias))
                        || query
                            .joins
                            .iter()
                            .any(|join| join.relationship_alias.as_ref() == Some(alias))
                }
            };
            if relationships {
                let alias = alias.clone().unwrap_or_else(|| "RELATIONSHIPS".to_owned());
                return Err(QueryError::IsOfModelOnRelationship { alias });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn known(aliases: &[String], alias: &str) -> Result<(), QueryError> {
    if aliases.iter().any(|a| a == alias) {
        return Ok(());
    }
    let declared = if aliases.is_empty() {
        "none".to_owned()
    } else {
        aliases.join(", ")
    };
    Err(QueryError::UnknownAlias {
        alias: alias.to_owned(),
        declared,
    })
}

/// With aliases declared, a path's first segment must be one of them; without any, every
/// path is relative to the document.
fn resolve(aliases: &[String], path: &mut Path) -> Result<(), QueryError> {
    if aliases.is_empty() {
        return Ok(());
    }
    if let Some((first, rest)) = path.segments.split_first() {
        known(aliases, first)?;
        *path = Path {
            alias: Some(first.clone()),
            segments: rest.to_vec(),
        };
    }
    Ok(())
}

fn resolve_expr(aliases: &[String], expr: &mut Expr) -> Result<(), QueryError> {
    match expr {
        Expr::And(terms) | Expr::Or(terms) => terms
            .iter_mut()
            .try_for_each(|term| resolve_expr(aliases, term)),
        Expr::Not(inner) => resolve_expr(aliases, inner),
        Expr::IsOfModel { alias, .. } => alias.as_deref().map_or(Ok(()), |a| known(aliases, a)),
        Expr::Compare { path, .. }
        | Expr::In { path, .. }
        | Expr::TypeCheck { path, .. }
        | Expr::StringMatch { path, .. }
        | Expr::ArrayContains { path, .. } => resolve(aliases, path),
    }
}

/// Each `AND` or `OR` joining n terms counts n - 1 operators, as written.
fn and_or_count(expr: &Expr) -> usize {
    match expr {
        Expr::And(terms) | Expr::Or(terms) => {
            terms.len().saturating_sub(1) + terms.iter().map(and_or_count).sum::<usize>()
        }
        Expr::Not(inner) => and_or_count(inner),
        _ => 0,
    }
}

/// The conditions that must all hold: a top-level AND's terms, or the filter itself.
fn conjuncts(filter: &Expr) -> &[Expr] {
    match filter {
        Expr::And(terms) => terms,
        other => std::slice::from_ref(other),
    }
}

fn is_dt_id_filter(expr: &Expr, root: &str) -> bool {
    let on_root_dt_id =
        |path: &Path| path.alias.as_deref() == Some(root) && path.segments == ["$dtId"];
    match expr {
        Expr::Compare {
            path,
            op: CompareOp::Eq,
            ..
        } => on_root_dt_id(path),
        Expr::In {
            path,
            negated: false,
            ..
        } => on_root_dt_id(path),
        _ => false,
    }
}
