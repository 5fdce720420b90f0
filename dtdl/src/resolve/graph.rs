//! The order in which an upload's Interfaces are resolved, and the cycles that forbid one.

/// Why one definition needs another first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Extends,
    Component,
}

/// A reference from one definition to another of the same upload, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub target: usize,
    pub edge: Edge,
    pub at: String,
}

/// A cycle, as the nodes along it (the first repeated at the end) and the kinds of its edges;
/// `closing` is the position, in the closing node's edge list, of the edge back to the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub nodes: Vec<usize>,
    pub edges: Vec<Edge>,
    pub closing: usize,
}

/// Visits dependencies before dependants. Nodes on a cycle are still listed; resolving them
/// fails because a dependency is missing, which is why the cycles are returned too.
/// Iterative, so that a long chain of `extends` cannot exhaust the stack.
pub fn order(edges: &[Vec<Dependency>]) -> (Vec<usize>, Vec<Cycle>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    let mut order = Vec::with_capacity(edges.len());
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Each frame is a node and the index of its next edge to follow.
        let mut stack = vec![(root, 0usize)];
        marks[root] = Mark::Open;
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            let Some(target) = edges[node].get(*next).map(|dependency| dependency.target) else {
                marks[node] = Mark::Done;
                order.push(node);
                stack.pop();
                continue;
            };
            let edge_index = *next;
            *next += 1;
            match marks[target] {
                Mark::New => {
                    marks[target] = Mark::Open;
                    stack.push((target, 0));
                }
                Mark::Open => cycles.push(cycle_through(&stack, edges, target, edge_index)),
                Mark::Done => {}
            }
        }
    }
    (order, cycles)
}

fn cycle_through(
    stack: &[(usize, usize)],
    edges: &[Vec<Dependency>],
    start: usize,
    closing: usize,
) -> Cycle {
    let from = stack
        .iter()
        .position(|(node, _)| *node == start)
        .unwrap_or(0);
    let path = &stack[from..];
    let mut nodes: Vec<usize> = path.iter().map(|(node, _)| *node).collect();
    nodes.push(start);
    // A frame's next index is one past the edge it followed.
    let edges = path
        .iter()
        .map(|(node, next)| edges[*node][next.saturating_sub(1)].edge)
        .collect();
    Cycle {
        nodes,
        edges,
        closing,
    }
}
