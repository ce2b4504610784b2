//! Source locations for profile errors: byte offsets to `LINE:COL` and to the key path
//! (`points[2].type`) a person can find in the file.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// A profile that cannot be used, located in its file.
///
/// Displays as `FILE:LINE:COL: key: what was expected`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}: {message}")]
pub struct ProfileError {
    /// The file (or `builtin:NAME` for the embedded library).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The offending key, as a path (`points[2].type`).
    pub key: String,
    /// What was expected.
    pub message: String,
}

/// Turns byte spans into [`ProfileError`]s.
pub(crate) struct Locator<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
}

impl Locator<'_> {
    pub(crate) fn error(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl fmt::Display,
    ) -> ProfileError {
        let (line, column) = line_col(self.text, span.start);
        ProfileError {
            file: self.file.to_owned(),
            line,
            column,
            key: key.to_owned(),
            message: message.to_string(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Best-effort key path for a deserializer error at `offset`: the enclosing `[table]` or
/// `[[array]]` header (with the element index) and the key on the offending line.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['))
        .unwrap_or_default();
    let mut header = String::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for l in text.get(..line_start).unwrap_or("").lines() {
        let l = l.trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")) {
            let name = name.trim().to_owned();
            let n = counts.entry(name.clone()).or_insert(0);
            header = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            header = name.trim().to_owned();
        }
    }
    match (header.is_empty(), key.is_empty()) {
        (true, true) => "profile".to_owned(),
        (true, false) => key,
        (false, true) => header,
        (false, false) => format!("{header}.{key}"),
    }
}
