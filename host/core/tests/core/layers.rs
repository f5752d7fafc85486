//! The core's modules form layers: no module imports, directly or through
//! others, a module that imports it back — except the one natural pair of
//! a démarche definition and its workflow (a definition names its workflow,
//! a workflow template is built from a definition's parameters). Read from
//! the sources: every `crate::module` path outside comments and test
//! modules is an import of `module`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The cycles allowed, as sorted sets of top-level modules.
const NATURAL_PAIRS: [[&str; 2]; 1] = [["demarche", "workflow"]];

/// Top-level module → the top-level modules it imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let deps = graph.entry(top.clone()).or_default();
            for line in code.lines() {
                let line = line.split("//").next().unwrap_or_default();
                for (n, _) in line.match_indices("crate::") {
                    let rest = &line[n + "crate::".len()..];
                    if let Some(group) = rest.strip_prefix('{') {
                        deps.extend(
                            group
                                .split([',', '}'])
                                .map(|item| item.trim().split("::").next().unwrap_or_default())
                                .filter(|name| !name.is_empty())
                                .map(str::to_owned),
                        );
                    } else {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect();
                        deps.insert(name);
                    }
                }
            }
            deps.remove(&top);
        }
    }
    graph
}

/// The modules reachable from `start`.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_owned()];
    while let Some(module) = todo.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn no_module_imports_one_that_imports_it_back_but_the_natural_pair() {
    let graph = imports();
    assert!(graph.len() > 20, "the sources were read: {graph:?}");
    let mut cycles: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for module in graph.keys() {
        let from = reachable(&graph, module);
        if from.contains(module) {
            let cycle: BTreeSet<String> = graph
                .keys()
                .filter(|other| from.contains(*other) && reachable(&graph, other).contains(module))
                .cloned()
                .collect();
            cycles.insert(cycle);
        }
    }
    let allowed: BTreeSet<BTreeSet<String>> = NATURAL_PAIRS
        .iter()
        .map(|pair| pair.iter().map(|m| (*m).to_owned()).collect())
        .collect();
    let unexpected: Vec<&BTreeSet<String>> = cycles.difference(&allowed).collect();
    assert!(unexpected.is_empty(), "import circles: {unexpected:?}");
}

#[test]
fn identifiers_import_nothing_of_the_core() {
    let graph = imports();
    assert_eq!(graph.get("id"), Some(&BTreeSet::new()));
}
