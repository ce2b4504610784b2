//! The built-in profile library, embedded in the binary so that a box works without the
//! source tree, and the lookup of a profile by NAME or FILE.

use std::path::Path;

use super::location::ProfileError;
use super::parse::parse_profile;
use super::profile::Profile;

/// Every built-in profile: `(name, TOML text)`, from `drivers/profiles/*.toml`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("bed_mat", include_str!("../../profiles/bed_mat.toml")),
    (
        "bed_mat_vitals",
        include_str!("../../profiles/bed_mat_vitals.toml"),
    ),
    ("co2_sensor", include_str!("../../profiles/co2_sensor.toml")),
    (
        "door_inputs",
        include_str!("../../profiles/door_inputs.toml"),
    ),
    (
        "gas_detector",
        include_str!("../../profiles/gas_detector.toml"),
    ),
    ("nurse_call", include_str!("../../profiles/nurse_call.toml")),
    ("room_th", include_str!("../../profiles/room_th.toml")),
    (
        "smoke_detector",
        include_str!("../../profiles/smoke_detector.toml"),
    ),
    ("water_leak", include_str!("../../profiles/water_leak.toml")),
];

/// The built-in profile `name`, parsed.
pub fn builtin(name: &str) -> Option<Result<Profile, ProfileError>> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| parse_profile(&format!("builtin:{n}"), text))
}

/// Loads a profile by reference: a path (contains `/` or ends in `.toml`) is read from disk,
/// relative paths against `base` (the directory of the config that names it); anything else is
/// the name of a built-in profile.
pub fn load(reference: &str, base: Option<&Path>) -> Result<Profile, ProfileError> {
    let is_path = reference.contains('/') || reference.ends_with(".toml");
    if !is_path {
        return builtin(reference).unwrap_or_else(|| {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            Err(ProfileError {
                file: reference.to_owned(),
                line: 1,
                column: 1,
                key: "profile".to_owned(),
                message: format!(
                    "unknown built-in profile; expected one of {} or a path to a .toml file",
                    names.join(", ")
                ),
            })
        });
    }
    let path = match base {
        Some(b) if Path::new(reference).is_relative() => b.join(reference),
        _ => Path::new(reference).to_path_buf(),
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| ProfileError {
        file: shown.clone(),
        line: 1,
        column: 1,
        key: "profile".to_owned(),
        message: format!("cannot read the profile file: {e}"),
    })?;
    parse_profile(&shown, &text)
}
