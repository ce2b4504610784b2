//! Payloads checked against docs/schema/ by an independent validator: Python `jsonschema`
//! (draft 2020-12, pinned in scripts/requirements.txt) through `tests/peers/validate_payloads.py`.
//! Lines are `TOPIC PAYLOAD` as `mosquitto_sub -v` prints them, or `@SCHEMA PAYLOAD`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{python, repo_root};

/// The validator's verdict on one line.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The topic (or `@schema`).
    pub target: String,
    /// The schema it was checked against (`None`: no schema for that topic).
    pub schema: Option<String>,
    /// Valid.
    pub ok: bool,
    /// Why not.
    pub errors: Vec<String>,
}

/// Validates each line; one verdict per line, in order.
pub fn validate(lines: &[String]) -> Vec<Verdict> {
    let mut child = Command::new(python())
        .arg(repo_root().join("tests/peers/validate_payloads.py"))
        .arg(repo_root().join("docs/schema"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the schema validator (run scripts/setup)");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for l in lines {
            writeln!(stdin, "{}", l.replace('\n', " ")).expect("write to the validator");
        }
    }
    let out = child.wait_with_output().expect("validator output");
    let verdicts: Vec<Verdict> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("validator line is JSON");
            Verdict {
                target: v["target"].as_str().unwrap_or_default().to_owned(),
                schema: v["schema"].as_str().map(str::to_owned),
                ok: v["ok"] == true,
                errors: v["errors"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    assert_eq!(
        verdicts.len(),
        lines.iter().filter(|l| !l.is_empty()).count(),
        "the validator answered every line"
    );
    verdicts
}

/// Panics unless every line is valid against its schema; returns how many lines each schema
/// checked, so a test can also require the kinds it expects.
pub fn assert_valid(lines: &[String]) -> std::collections::BTreeMap<String, usize> {
    assert!(!lines.is_empty(), "nothing to validate");
    let verdicts = validate(lines);
    let bad: Vec<String> = verdicts
        .iter()
        .zip(lines)
        .filter(|(v, _)| !v.ok)
        .map(|(v, l)| format!("{:?} {}: {:?}\n    {l:.400}", v.schema, v.target, v.errors))
        .collect();
    assert!(
        bad.is_empty(),
        "{} payloads do not match their schema:\n{}",
        bad.len(),
        bad.join("\n")
    );
    let mut by_schema = std::collections::BTreeMap::new();
    for v in verdicts {
        *by_schema.entry(v.schema.unwrap_or_default()).or_insert(0) += 1;
    }
    by_schema
}
