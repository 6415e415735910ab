//! Publishing order: dependencies before dependents, cycles named.

use std::collections::{BTreeMap, BTreeSet};

use super::workspace::Workspace;

/// The publishable crates, each after every publishable crate it depends on (ties by
/// name). A cycle is an error naming it: `a -> b -> a`.
pub fn publish_order(ws: &Workspace) -> Result<Vec<String>, String> {
    let names: BTreeSet<&str> = ws.publishable().map(|c| c.name.as_str()).collect();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in ws.publishable() {
        let deps = ws
            .internal_deps(c)
            .map(|d| d.name.as_str())
            .filter(|d| names.contains(d) && *d != c.name)
            .collect();
        edges.insert(c.name.as_str(), deps);
    }
    let mut order = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < names.len() {
        let ready: Vec<&str> = names
            .iter()
            .filter(|n| !done.contains(*n))
            .filter(|n| edges[*n].iter().all(|d| done.contains(d)))
            .copied()
            .collect();
        if ready.is_empty() {
            let left: BTreeSet<&str> = names
                .iter()
                .filter(|n| !done.contains(*n))
                .copied()
                .collect();
            return Err(format!("dependency cycle: {}", find_cycle(&edges, &left)));
        }
        for n in ready {
            done.insert(n);
            order.push(n.to_owned());
        }
    }
    Ok(order)
}

/// One cycle among `left` (every node there has an undone dependency).
fn find_cycle(edges: &BTreeMap<&str, BTreeSet<&str>>, left: &BTreeSet<&str>) -> String {
    let Some(start) = left.iter().next() else {
        return String::new();
    };
    let mut path = vec![*start];
    let mut current = *start;
    while let Some(next) = edges[current].iter().find(|d| left.contains(*d)) {
        if let Some(i) = path.iter().position(|p| p == next) {
            let mut cycle: Vec<&str> = path[i..].to_vec();
            cycle.push(next);
            return cycle.join(" -> ");
        }
        path.push(next);
        current = next;
    }
    path.join(" -> ")
}
