//! Commands in, in two topic forms (docs/MQTT.md, docs/SECURITY.md):
//!
//! - `pingan/{site}/cmd/alerts/{id}/{ack|resolve}` and `pingan/{site}/cmd/devices/{device}/{command}`
//!   with `{"by": "…", "note": "…"}`: the person is whoever the body names. Accepted only where
//!   nothing but trusted publishers can write (the loopback broker; an uplink with
//!   `command_identity = "body"`).
//! - `pingan/{site}/cmd/users/{user}/alerts/{id}/{verb}` and
//!   `pingan/{site}/cmd/users/{user}/devices/{device}/{command}`: the acting identity is `{user}`,
//!   which the broker's ACL (`pattern write pingan/{site}/cmd/users/%u/#`) ties to the MQTT login.
//!   A `by` in the body is kept beside it, never instead of it. Accepted only on uplinks with
//!   `command_identity = "topic"`.
//!
//! Parsing is strict and total: any topic and payload give a command, `None` (not a command
//! topic) or a typed error; names pass the same checks as the dashboard's ([`check_person`]).

use serde::Deserialize;
use ulid::Ulid;

use super::topics::{Inbound, Topics};
use crate::alert::{Actor, AlertIdError, PersonError, check_person, parse_alert_id};
use crate::config::CommandIdentity;

/// Largest accepted command payload; a person's note fits easily.
pub const MAX_COMMAND_BYTES: usize = 4096;
/// Longest note, characters (as on the dashboard).
pub const MAX_NOTE: usize = 2000;
/// Longest device id or device command name in a topic, bytes.
const MAX_TOPIC_PART: usize = 128;

/// What a person asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Acknowledge: "I am on it".
    Ack,
    /// Resolve: "it is over".
    Resolve,
}

/// A parsed alert command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The alert.
    pub alert: Ulid,
    /// What.
    pub action: Action,
    /// Who (checked).
    pub by: Actor,
    /// Their note.
    pub note: Option<String>,
}

/// A person's command to a device (a Modbus profile command such as `silence` or `reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCommand {
    /// The device.
    pub device: pingan_drivers::DeviceId,
    /// The profile command's name.
    pub command: String,
    /// Who (checked).
    pub by: Actor,
}

/// A command of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// To an alert.
    Alert(Command),
    /// To a device.
    Device(DeviceCommand),
}

/// A command that cannot be carried out as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandParseError {
    /// The topic is not one of the command forms.
    #[error(
        "topic \"{0}\" is not pingan/{{site}}/cmd/[users/{{user}}/]alerts/{{id}}/{{ack|resolve}} or …/devices/{{device}}/{{command}}"
    )]
    Topic(String),
    /// The id is not a ULID in range.
    #[error(transparent)]
    AlertId(#[from] AlertIdError),
    /// The action is unknown.
    #[error("unknown action \"{0}\"; expected ack or resolve")]
    Action(String),
    /// The payload is too large.
    #[error("payload of {0} bytes exceeds the {MAX_COMMAND_BYTES}-byte limit")]
    TooLarge(usize),
    /// The payload is not UTF-8 JSON of the expected shape.
    #[error("payload is not {{\"by\": \"name\", \"note\": \"…\"}}: {0}")]
    Payload(String),
    /// `by` is missing or empty where the body names the person.
    #[error("\"by\" must name the person")]
    MissingPerson,
    /// `by` cannot be recorded.
    #[error("\"by\": {0}")]
    Person(PersonError),
    /// The note is too long.
    #[error("\"note\" has more than {MAX_NOTE} characters")]
    NoteTooLong,
    /// A `v` other than the payload version this gateway speaks.
    #[error("payload version {0} is not supported; send \"v\": 1 or leave it out")]
    Version(u64),
    /// The `{user}` of a user-scoped topic is not an MQTT user name Pingan issues.
    #[error("\"{0}\" is not a user name (1-64 of A-Z a-z 0-9 . _ -)")]
    User(String),
    /// A command in the form this link does not take its identity from.
    #[error(
        "this link takes the acting person from the {expected}; commands in the other form are refused (docs/SECURITY.md)"
    )]
    WrongForm {
        /// What the link expects.
        expected: &'static str,
    },
}

/// Checks an MQTT user name as Pingan issues them (`pingan mosquitto` and the `{user}` of
/// user-scoped topics): 1 to 64 of `A-Z a-z 0-9 . _ -`. Nothing that is special in topics or
/// in Mosquitto's `%u` ACL patterns (`/ + #`), no spaces, no control characters.
pub fn check_user_name(user: &str) -> Result<&str, CommandParseError> {
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(user)
    } else {
        Err(CommandParseError::User(user.chars().take(80).collect()))
    }
}

/// Parses a message on a subscribed topic for a link whose commands take their acting person
/// from `identity`. `Ok(None)`: not a command topic of this site.
pub fn parse(
    topics: &Topics,
    identity: CommandIdentity,
    topic: &str,
    payload: &[u8],
) -> Result<Option<Parsed>, CommandParseError> {
    let form = topics.inbound(topic);
    let scoped = match (form, identity) {
        (Inbound::Other, _) => return Ok(None),
        (Inbound::UserCommand, CommandIdentity::Topic) => true,
        (Inbound::AlertCommand | Inbound::DeviceCommand, CommandIdentity::Body) => false,
        (Inbound::UserCommand, CommandIdentity::Body) => {
            return Err(CommandParseError::WrongForm {
                expected: "\"by\" of the payload (pingan/{site}/cmd/alerts/…)",
            });
        }
        (_, CommandIdentity::Topic) => {
            return Err(CommandParseError::WrongForm {
                expected: "user name of the topic (pingan/{site}/cmd/users/{user}/…)",
            });
        }
    };
    let body = body(payload)?;
    let (rest, by) = if scoped {
        let rest = strip(topic, &topics.user_commands_prefix())?;
        let (user, rest) = rest
            .split_once('/')
            .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
        let user = check_user_name(user)?;
        let by = Actor::account_with_name(user, body.by.clone())
            .checked()
            .map_err(CommandParseError::Person)?;
        (rest, by)
    } else {
        let name = body.by.as_deref().unwrap_or_default();
        let name = check_person(name).map_err(|e| match e {
            PersonError::Empty => CommandParseError::MissingPerson,
            e => CommandParseError::Person(e),
        })?;
        let rest = strip(topic, &format!("pingan/{}/cmd/", topics.site()))?;
        (rest, Actor::named(name))
    };
    if let Some(r) = rest.strip_prefix("alerts/") {
        alert_command(topic, r, by, body.note).map(|c| Some(Parsed::Alert(c)))
    } else if let Some(r) = rest.strip_prefix("devices/") {
        device_command(topic, r, by).map(|c| Some(Parsed::Device(c)))
    } else {
        Err(CommandParseError::Topic(topic.to_owned()))
    }
}

fn strip<'a>(topic: &'a str, prefix: &str) -> Result<&'a str, CommandParseError> {
    topic
        .strip_prefix(prefix)
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))
}

fn alert_command(
    topic: &str,
    rest: &str,
    by: Actor,
    note: Option<String>,
) -> Result<Command, CommandParseError> {
    let (id, action) = rest
        .split_once('/')
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    let alert = parse_alert_id(id)?;
    let action = match action {
        "ack" => Action::Ack,
        "resolve" => Action::Resolve,
        other => return Err(CommandParseError::Action(other.chars().take(40).collect())),
    };
    Ok(Command {
        alert,
        action,
        by,
        note,
    })
}

fn device_command(topic: &str, rest: &str, by: Actor) -> Result<DeviceCommand, CommandParseError> {
    let (device, command) = rest
        .split_once('/')
        .filter(|(d, c)| {
            let part = |s: &str| !s.is_empty() && s.len() <= MAX_TOPIC_PART && !s.contains('/');
            part(d) && part(c)
        })
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    Ok(DeviceCommand {
        device: pingan_drivers::DeviceId::new(device),
        command: command.to_owned(),
        by,
    })
}

/// The payload, checked: at most [`MAX_COMMAND_BYTES`], known fields only, a note of at most
/// [`MAX_NOTE`] characters.
fn body(payload: &[u8]) -> Result<Body, CommandParseError> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(CommandParseError::TooLarge(payload.len()));
    }
    let mut body: Body =
        serde_json::from_slice(payload).map_err(|e| CommandParseError::Payload(e.to_string()))?;
    if let Some(v) = body.v.filter(|v| *v != u64::from(super::payload::VERSION)) {
        return Err(CommandParseError::Version(v));
    }
    body.by = body
        .by
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    body.note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if body
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE)
    {
        return Err(CommandParseError::NoteTooLong);
    }
    Ok(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    /// The payload version (optional; docs/schema/command.schema.json).
    #[serde(default)]
    v: Option<u64>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    note: Option<String>,
    // Senders may stamp their own time; the gateway's clock decides.
    #[serde(default)]
    #[allow(dead_code)]
    at: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests;
