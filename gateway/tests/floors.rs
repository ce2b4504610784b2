//! The architecture as a test: every module of the gateway imports only modules on lower floors
//! (ARCHITECTURE.md), and no file of any crate is part of an import circle. Reads the sources:
//! `use` declarations and `crate::…` paths outside comments and inline test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floors of the gateway's top-level modules, lowest first.
const FLOORS: &[(&str, u8)] = &[
    ("config", 0),
    ("clock", 0),
    ("log_limit", 0),
    ("metrics", 0),
    ("health", 0),
    ("rate_limit", 0),
    ("fd_limit", 0),
    ("cold_pages", 0),
    ("shared", 0),
    ("alert", 1),
    ("facility", 2),
    ("store", 2),
    ("analytics", 3),
    ("report", 3),
    ("care", 3),
    ("pipeline", 4),
    ("mqtt", 4),
    ("web", 5),
    ("service", 6),
    ("cli", 7),
];

type Module = Vec<String>;

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Every `.rs` file of `src` by module path.
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("inside src").with_extension("");
            let mut parts: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts
                .last()
                .is_some_and(|l| ["mod", "lib", "main"].contains(&l.as_str()))
            {
                parts.pop();
            }
            out.insert(parts, std::fs::read_to_string(&p).expect("readable source"));
        }
    }
    out
}

/// The source without line comments and without an inline `mod tests { … }` at the end.
fn code(src: &str) -> String {
    let src = src.split("#[cfg(test)]\nmod tests {").next().unwrap_or(src);
    src.lines()
        .map(|l| match l.find("//") {
            // `//` inside a string ("mqtt://…") cuts a string short; only paths are read below.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d, e}}` → `[a::b, a::c::d, a::c::e]`.
fn expand(prefix: &[String], tree: &str) -> Vec<Module> {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Module = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = tree[open + 1..].trim_end().trim_end_matches('}');
        let mut base = prefix.to_vec();
        base.extend(head);
        let (mut depth, mut cur, mut out) = (0, String::new(), Vec::new());
        for ch in inner.chars() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(expand(&base, &cur));
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            cur.push(ch);
        }
        out.extend(expand(&base, &cur));
        return out;
    }
    let path = tree.split(" as ").next().unwrap_or(tree);
    let mut m = prefix.to_vec();
    m.extend(
        path.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    if m.is_empty() { Vec::new() } else { vec![m] }
}

/// The paths a file names: its `use` trees and inline `crate::` paths.
fn paths(code: &str) -> Vec<Module> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("use ") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = code[start..].find(';').map_or(code.len(), |e| start + e);
        if boundary {
            out.extend(expand(&[], &code[start + 4..end]));
        }
        i = start + 4;
    }
    let mut i = 0;
    while let Some(at) = code[i..].find("crate::") {
        let start = i + at + "crate::".len();
        let end = code[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(code.len(), |e| start + e);
        let mut m = vec!["crate".to_owned()];
        m.extend(
            code[start..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        out.push(m);
        i = end;
    }
    out
}

/// The file module a path refers to from `module`, if it is one of `files`.
fn resolve(module: &Module, path: &Module, files: &BTreeMap<Module, String>) -> Option<Module> {
    let target: Module = match path.first().map(String::as_str) {
        Some("crate") => path[1..].to_vec(),
        Some("super") => {
            let mut base = module.clone();
            let mut rest = &path[..];
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            base
        }
        Some("self") => {
            let mut base = module.clone();
            base.extend(path[1..].iter().cloned());
            base
        }
        Some(first) => {
            let mut child = module.clone();
            child.push(first.to_owned());
            if !files.contains_key(&child) {
                return None;
            }
            let mut base = module.clone();
            base.extend(path.iter().cloned());
            base
        }
        None => return None,
    };
    (1..=target.len())
        .rev()
        .map(|n| target[..n].to_vec())
        .find(|m| files.contains_key(m))
        .filter(|m| m != module)
}

fn edges(files: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    files
        .iter()
        .map(|(m, src)| {
            let to = paths(&code(src))
                .iter()
                .filter_map(|p| resolve(m, p, files))
                .collect();
            (m.clone(), to)
        })
        .collect()
}

/// Strongly connected components with more than one file (Tarjan).
fn circles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        next: usize,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Module) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn show(m: &Module) -> String {
    if m.is_empty() {
        "(crate root)".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_file_of_any_crate_is_part_of_an_import_circle() {
    for krate in ["gateway", "drivers", "models"] {
        let files = modules(&crate_dir(krate).join("src"));
        assert!(files.len() > 5, "{krate}: sources found");
        let found: Vec<String> = circles(&edges(&files))
            .iter()
            .map(|c| c.iter().map(show).collect::<Vec<_>>().join(" ↔ "))
            .collect();
        assert!(found.is_empty(), "{krate}: import circles: {found:#?}");
    }
}

#[test]
fn gateway_modules_import_only_from_lower_floors() {
    let files = modules(&crate_dir("gateway").join("src"));
    let floor = |m: &Module| {
        m.first()
            .and_then(|top| FLOORS.iter().find(|(n, _)| n == top))
            .map(|(_, f)| *f)
    };
    let mut wrong = Vec::new();
    for (from, to) in edges(&files) {
        let Some(f) = floor(&from) else {
            // The crate root declares the modules; main.rs is the binary.
            assert!(
                from.is_empty() || from == ["main"],
                "{} has no floor",
                show(&from)
            );
            continue;
        };
        for t in to {
            let same_top = from.first() == t.first();
            if let Some(ft) = floor(&t) {
                if !same_top && ft >= f {
                    wrong.push(format!(
                        "{} (floor {f}) imports {} (floor {ft})",
                        show(&from),
                        show(&t)
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the floors: {wrong:#?}");
}

#[test]
fn the_checker_finds_a_circle_and_a_wrong_floor() {
    let mut files = BTreeMap::new();
    files.insert(
        vec!["config".to_owned()],
        "use crate::alert::Kind;".to_owned(),
    );
    files.insert(
        vec!["alert".to_owned()],
        "use crate::config::X;\nfn f() { crate::config::y(); }".to_owned(),
    );
    let g = edges(&files);
    assert_eq!(circles(&g).len(), 1);
    assert!(g[&vec!["config".to_owned()]].contains(&vec!["alert".to_owned()]));
}
