//! Commands in: `pingan/{site}/cmd/alerts/{id}/{ack|resolve}` with `{"by": "…", "note": "…"}`.
//! Parsing is strict and total: any topic and payload give a command or a typed error.

use serde::Deserialize;
use ulid::Ulid;

/// Largest accepted command payload; a person's note fits easily.
pub const MAX_COMMAND_BYTES: usize = 4096;

/// What a person asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Acknowledge: "I am on it".
    Ack,
    /// Resolve: "it is over".
    Resolve,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The alert.
    pub alert: Ulid,
    /// What.
    pub action: Action,
    /// Who (a person's name).
    pub by: String,
    /// Their note.
    pub note: Option<String>,
}

/// A command that cannot be carried out as sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandParseError {
    /// The topic is not `…/cmd/alerts/{id}/{ack|resolve}`.
    #[error("topic \"{0}\" is not pingan/{{site}}/cmd/alerts/{{id}}/{{ack|resolve}}")]
    Topic(String),
    /// The id is not a ULID.
    #[error("\"{0}\" is not an alert id (a 26-character ULID)")]
    AlertId(String),
    /// The action is unknown.
    #[error("unknown action \"{0}\"; expected ack or resolve")]
    Action(String),
    /// The payload is too large.
    #[error("payload of {0} bytes exceeds the {MAX_COMMAND_BYTES}-byte limit")]
    TooLarge(usize),
    /// The payload is not UTF-8 JSON of the expected shape.
    #[error("payload is not {{\"by\": \"name\", \"note\": \"…\"}}: {0}")]
    Payload(String),
    /// `by` is empty.
    #[error("\"by\" must name the person")]
    MissingPerson,
    /// A `v` other than the payload version this gateway speaks.
    #[error("payload version {0} is not supported; send \"v\": 1 or leave it out")]
    Version(u64),
}

/// A person's command to a device (a Modbus profile command such as `silence` or `reset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCommand {
    /// The device.
    pub device: pingan_drivers::DeviceId,
    /// The profile command's name.
    pub command: String,
    /// Who.
    pub by: String,
}

/// Parses `pingan/{site}/cmd/devices/{device}/{command}` (with the site's `prefix`, see
/// `Topics::device_commands_prefix`) and its `{"by": …}` payload.
pub fn parse_device(
    prefix: &str,
    topic: &str,
    payload: &[u8],
) -> Result<DeviceCommand, CommandParseError> {
    let rest = topic
        .strip_prefix(prefix)
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    let (device, command) = rest
        .split_once('/')
        .filter(|(d, c)| !d.is_empty() && !c.is_empty() && !c.contains('/'))
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    let (by, _) = body(payload)?;
    Ok(DeviceCommand {
        device: pingan_drivers::DeviceId::new(device),
        command: command.to_owned(),
        by,
    })
}

fn body(payload: &[u8]) -> Result<(String, Option<String>), CommandParseError> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(CommandParseError::TooLarge(payload.len()));
    }
    let body: Body =
        serde_json::from_slice(payload).map_err(|e| CommandParseError::Payload(e.to_string()))?;
    if let Some(v) = body.v.filter(|v| *v != u64::from(super::payload::VERSION)) {
        return Err(CommandParseError::Version(v));
    }
    let by = body.by.trim().to_owned();
    if by.is_empty() {
        return Err(CommandParseError::MissingPerson);
    }
    Ok((by, body.note.filter(|n| !n.trim().is_empty())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    /// The payload version (optional; docs/schema/command.schema.json).
    #[serde(default)]
    v: Option<u64>,
    by: String,
    #[serde(default)]
    note: Option<String>,
    // Senders may stamp their own time; the gateway's clock decides.
    #[serde(default)]
    #[allow(dead_code)]
    at: Option<serde_json::Value>,
}

/// Parses a command from its topic (with the site's `prefix`, see `Topics::commands_prefix`) and
/// payload.
pub fn parse(prefix: &str, topic: &str, payload: &[u8]) -> Result<Command, CommandParseError> {
    let rest = topic
        .strip_prefix(prefix)
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    let (id, action) = rest
        .split_once('/')
        .ok_or_else(|| CommandParseError::Topic(topic.to_owned()))?;
    let alert = Ulid::from_string(id).map_err(|_| CommandParseError::AlertId(id.to_owned()))?;
    let action = match action {
        "ack" => Action::Ack,
        "resolve" => Action::Resolve,
        other => return Err(CommandParseError::Action(other.to_owned())),
    };
    let (by, note) = body(payload)?;
    Ok(Command {
        alert,
        action,
        by,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: &str = "pingan/home/cmd/alerts/";

    #[test]
    fn parses_ack_and_resolve() {
        let id = Ulid::from_parts(1, 2);
        let c = parse(
            P,
            &format!("{P}{id}/ack"),
            br#"{"by":"Nurse Li","note":"on my way"}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            Command {
                alert: id,
                action: Action::Ack,
                by: "Nurse Li".into(),
                note: Some("on my way".into())
            }
        );
        let c = parse(P, &format!("{P}{id}/resolve"), br#"{"by":"Li"}"#).unwrap();
        assert_eq!((c.action, c.note), (Action::Resolve, None));
    }

    #[test]
    fn parses_device_commands() {
        let d = "pingan/home/cmd/devices/";
        let c = parse_device(d, &format!("{d}smoke-2f/silence"), br#"{"by":"Guard Wu"}"#).unwrap();
        assert_eq!(
            (c.device.as_str(), c.command.as_str(), c.by.as_str()),
            ("smoke-2f", "silence", "Guard Wu")
        );
        assert!(matches!(
            parse_device(d, &format!("{d}smoke-2f"), br#"{"by":"x"}"#),
            Err(CommandParseError::Topic(_))
        ));
        assert!(matches!(
            parse_device(d, &format!("{d}a/b/c"), br#"{"by":"x"}"#),
            Err(CommandParseError::Topic(_))
        ));
        assert_eq!(
            parse_device(d, &format!("{d}a/b"), br#"{"by":""}"#),
            Err(CommandParseError::MissingPerson)
        );
    }

    #[test]
    fn malformed_commands_get_typed_errors() {
        let id = Ulid::from_parts(1, 2);
        assert_eq!(
            parse(P, &format!("{P}nope/ack"), b"{}"),
            Err(CommandParseError::AlertId("nope".into()))
        );
        assert_eq!(
            parse(P, &format!("{P}{id}/delete"), b"{}"),
            Err(CommandParseError::Action("delete".into()))
        );
        assert!(matches!(
            parse(P, &format!("{P}{id}/ack"), b"\xff\xfe"),
            Err(CommandParseError::Payload(_))
        ));
        assert!(matches!(
            parse(P, &format!("{P}{id}/ack"), br#"{"note":"x"}"#),
            Err(CommandParseError::Payload(_))
        ));
        assert_eq!(
            parse(P, &format!("{P}{id}/ack"), br#"{"by":"  "}"#),
            Err(CommandParseError::MissingPerson)
        );
        assert_eq!(
            parse(P, &format!("{P}{id}/ack"), br#"{"v":2,"by":"Li"}"#),
            Err(CommandParseError::Version(2))
        );
        assert!(parse(P, &format!("{P}{id}/ack"), br#"{"v":1,"by":"Li"}"#).is_ok());
        let big = vec![b' '; MAX_COMMAND_BYTES + 1];
        assert_eq!(
            parse(P, &format!("{P}{id}/ack"), &big),
            Err(CommandParseError::TooLarge(MAX_COMMAND_BYTES + 1))
        );
        assert!(matches!(
            parse(P, "other/topic", b"{}"),
            Err(CommandParseError::Topic(_))
        ));
    }

    proptest! {
        #[test]
        fn any_input_parses_or_errors_without_panic(topic in ".{0,80}", payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(P, &topic, &payload);
            let _ = parse(P, &format!("{P}{topic}"), &payload);
            let _ = parse_device(P, &format!("{P}{topic}"), &payload);
        }
    }
}
