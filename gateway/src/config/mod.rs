//! Site configuration: the TOML model ([`model`]), parsing with exact error places ([`error`]),
//! and the cross-checks serde cannot do (ids that refer to each other, time zones, URLs).

pub mod analytics;
mod error;
mod exposure;
mod limits;
mod model;
mod needs;
pub mod shifts;
pub mod uplink_url;
mod validate;
mod vocab;
pub mod window;

use std::path::Path;

pub use analytics::AnalyticsConfig;
pub use error::{ConfigError, Problem};
pub use exposure::warnings;
pub use limits::MAX_MQTT_CONNECTIONS;
pub use model::*;
pub use shifts::{Shift, ShiftInstance, Shifts};
pub use uplink_url::{UplinkUrl, UrlError};
pub use vocab::{AlertKind, DeviceModel, LinkId, Locale};

use error::SourceMap;

/// The built-in default configuration, printed by `pingan print-default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![Problem {
                file: origin.clone(),
                line: 1,
                column: 1,
                key: "(file)".to_owned(),
                message: format!("cannot read the file: {e}"),
            }],
        })?;
        Self::parse(&text, &origin)
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let map = SourceMap::new(text);
        let de = toml::Deserializer::new(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().trim().to_owned();
            let key = key_of(&path, &message);
            let (line, column) = match inner.span() {
                Some(span) => map.line_col(span.start),
                None => map.locate(&path),
            };
            ConfigError {
                problems: vec![Problem {
                    file: origin.to_owned(),
                    line,
                    column,
                    key,
                    message,
                }],
            }
        })?;
        let problems: Vec<Problem> = validate::check(&config)
            .into_iter()
            .map(|(key, message)| {
                let (line, column) = map.locate(&key);
                Problem {
                    file: origin.to_owned(),
                    line,
                    column,
                    key,
                    message,
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// The parsed built-in default.
    pub fn default_config() -> Config {
        // The default is tested to parse; failing here is a build defect, not bad input.
        #[allow(clippy::expect_used)]
        Self::parse(DEFAULT_CONFIG, "<default>").expect("the built-in default config is valid")
    }

    /// What is wrong with a config changed after parsing (care records applied), as (key path,
    /// what was expected); empty when it is valid.
    pub fn problems(&self) -> Vec<(String, String)> {
        validate::check(self)
    }

    /// The site's time zone.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.site.timezone.0
    }
}

/// The key a serde error is about: its path, plus the field named in "missing field `x`" or
/// "unknown field `x`" messages.
fn key_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let path = if path == "." { "" } else { path };
    match named {
        Some(field) if path.is_empty() => field.to_owned(),
        Some(field) if !path.ends_with(field) => format!("{path}.{field}"),
        _ if path.is_empty() => "(top level)".to_owned(),
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests;
