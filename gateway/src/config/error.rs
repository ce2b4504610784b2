//! Config problems rendered as `FILE:LINE:COL: key: what was expected`, the format editors and
//! people on a night shift can both act on.

use std::fmt;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or `<default>`).
    pub file: String,
    /// 1-based line, when the place is known.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted key path, e.g. `devices[3].resident`.
    pub key: String,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.key, self.message
        )
    }
}

/// A config that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Maps byte offsets and key paths of one TOML text to lines and columns.
#[derive(Debug)]
pub(crate) struct SourceMap<'a> {
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            doc: toml_edit::ImDocument::parse(text).ok(),
        }
    }

    /// 1-based line and column of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(before.chars().count(), |nl| {
            before[nl + 1..].chars().count()
        }) + 1;
        (line, col)
    }

    /// Where the value at `path` (e.g. `devices[3].resident`) starts, or the nearest parent.
    pub(crate) fn locate(&self, path: &str) -> (usize, usize) {
        let Some(doc) = &self.doc else {
            return (1, 1);
        };
        let mut item: &toml_edit::Item = doc.as_item();
        let mut best = None;
        for seg in split_path(path) {
            let next = match seg {
                Seg::Key(k) => item.get(k),
                Seg::Index(i) => item.get(i),
            };
            match next {
                Some(n) => {
                    item = n;
                    if let Some(span) = span_of(item) {
                        best = Some(span);
                    }
                }
                None => break,
            }
        }
        best.map_or((1, 1), |s| self.line_col(s))
    }
}

fn span_of(item: &toml_edit::Item) -> Option<usize> {
    match item {
        toml_edit::Item::Value(v) => v.span().map(|s| s.start),
        toml_edit::Item::Table(t) => t.span().map(|s| s.start),
        toml_edit::Item::ArrayOfTables(a) => a.span().map(|s| s.start),
        toml_edit::Item::None => None,
    }
}

enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}
