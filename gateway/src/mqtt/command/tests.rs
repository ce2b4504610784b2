use super::*;
use crate::config::CommandIdentity::{Body as ByBody, Topic as ByTopic};
use proptest::prelude::*;

fn t() -> Topics {
    Topics::new("home")
}

fn alert(p: Result<Option<Parsed>, CommandParseError>) -> Command {
    match p {
        Ok(Some(Parsed::Alert(c))) => c,
        other => panic!("not an alert command: {other:?}"),
    }
}

#[test]
fn parses_ack_and_resolve_named_in_the_body() {
    let id = Ulid::from_parts(1, 2);
    let c = alert(parse(
        &t(),
        ByBody,
        &t().alert_command(id, "ack"),
        br#"{"by":"Nurse Li","note":"on my way"}"#,
    ));
    assert_eq!(
        c,
        Command {
            alert: id,
            action: Action::Ack,
            by: Actor::named("Nurse Li"),
            note: Some("on my way".into())
        }
    );
    let c = alert(parse(
        &t(),
        ByBody,
        &t().alert_command(id, "resolve"),
        br#"{"by":"Li"}"#,
    ));
    assert_eq!((c.action, c.note), (Action::Resolve, None));
}

#[test]
fn user_scoped_commands_act_as_the_topic_user_with_the_typed_name_beside_it() {
    let id = Ulid::from_parts(1, 2);
    let c = alert(parse(
        &t(),
        ByTopic,
        &t().user_alert_command("li.na", id, "ack"),
        br#"{"note":"on my way"}"#,
    ));
    assert_eq!(c.by, Actor::account("li.na"));
    let c = alert(parse(
        &t(),
        ByTopic,
        &t().user_alert_command("station-2", id, "ack"),
        br#"{"by":"Nurse Wang"}"#,
    ));
    assert_eq!(c.by.account.as_deref(), Some("station-2"));
    assert_eq!(c.by.display(), "Nurse Wang (station-2)");
    let d = parse(
        &t(),
        ByTopic,
        "pingan/home/cmd/users/guard_wu/devices/smoke-2f/silence",
        b"{}",
    );
    match d {
        Ok(Some(Parsed::Device(d))) => {
            assert_eq!(
                (d.device.as_str(), d.command.as_str()),
                ("smoke-2f", "silence")
            );
            assert_eq!(d.by, Actor::account("guard_wu"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_link_takes_only_its_own_form() {
    let id = Ulid::from_parts(1, 2);
    assert!(matches!(
        parse(
            &t(),
            ByTopic,
            &t().alert_command(id, "ack"),
            br#"{"by":"Li"}"#
        ),
        Err(CommandParseError::WrongForm { .. })
    ));
    assert!(matches!(
        parse(
            &t(),
            ByBody,
            &t().user_alert_command("li", id, "ack"),
            br#"{"by":"Li"}"#
        ),
        Err(CommandParseError::WrongForm { .. })
    ));
    assert_eq!(parse(&t(), ByBody, &t().alert(id), b"{}"), Ok(None));
    assert_eq!(
        parse(&t(), ByTopic, "pingan/other/cmd/alerts/x/ack", b"{}"),
        Ok(None)
    );
}

#[test]
fn parses_device_commands() {
    let d = "pingan/home/cmd/devices/";
    match parse(
        &t(),
        ByBody,
        &format!("{d}smoke-2f/silence"),
        br#"{"by":"Guard Wu"}"#,
    ) {
        Ok(Some(Parsed::Device(c))) => assert_eq!(
            (
                c.device.as_str(),
                c.command.as_str(),
                c.by.display().as_str()
            ),
            ("smoke-2f", "silence", "Guard Wu")
        ),
        other => panic!("{other:?}"),
    }
    for topic in [
        format!("{d}smoke-2f"),
        format!("{d}a/b/c"),
        format!("{d}{}/x", "d".repeat(200)),
    ] {
        assert!(
            matches!(
                parse(&t(), ByBody, &topic, br#"{"by":"x"}"#),
                Err(CommandParseError::Topic(_))
            ),
            "{topic}"
        );
    }
    assert_eq!(
        parse(&t(), ByBody, &format!("{d}a/b"), br#"{"by":""}"#),
        Err(CommandParseError::MissingPerson)
    );
}

#[test]
fn malformed_commands_get_typed_errors() {
    let id = Ulid::from_parts(1, 2);
    let p = |topic: &str, body: &[u8]| parse(&t(), ByBody, topic, body);
    assert!(matches!(
        p("pingan/home/cmd/alerts/nope/ack", br#"{"by":"x"}"#),
        Err(CommandParseError::AlertId(_))
    ));
    assert_eq!(
        p(&t().alert_command(id, "delete"), br#"{"by":"x"}"#),
        Err(CommandParseError::Action("delete".into()))
    );
    assert!(matches!(
        p(&t().alert_command(id, "ack"), b"\xff\xfe"),
        Err(CommandParseError::Payload(_))
    ));
    assert_eq!(
        p(&t().alert_command(id, "ack"), br#"{"note":"x"}"#),
        Err(CommandParseError::MissingPerson)
    );
    assert_eq!(
        p(&t().alert_command(id, "ack"), br#"{"by":"  "}"#),
        Err(CommandParseError::MissingPerson)
    );
    let big = vec![b' '; MAX_COMMAND_BYTES + 1];
    assert_eq!(
        p(&t().alert_command(id, "ack"), &big),
        Err(CommandParseError::TooLarge(MAX_COMMAND_BYTES + 1))
    );
    let long_note = format!(r#"{{"by":"x","note":"{}"}}"#, "n".repeat(MAX_NOTE + 1));
    assert_eq!(
        p(&t().alert_command(id, "ack"), long_note.as_bytes()),
        Err(CommandParseError::NoteTooLong)
    );
    assert_eq!(p("pingan/home/cmd/other/x", br#"{"by":"x"}"#), Ok(None));
    assert!(matches!(
        p("pingan/home/cmd/alerts/x", br#"{"by":"x"}"#),
        Err(CommandParseError::Topic(_))
    ));
}

#[test]
fn control_and_bidi_names_are_refused_like_on_the_dashboard() {
    let id = Ulid::from_parts(1, 2);
    for body in [
        r#"{"by":"\u0000"}"#,
        r#"{"by":"Li\u202eadmin"}"#,
        r#"{"by":"a\u2066b"}"#,
    ] {
        assert!(
            matches!(
                parse(&t(), ByBody, &t().alert_command(id, "ack"), body.as_bytes()),
                Err(CommandParseError::Person(_))
            ),
            "{body}"
        );
    }
    let long = format!(r#"{{"by":"{}"}}"#, "x".repeat(65));
    assert_eq!(
        parse(&t(), ByBody, &t().alert_command(id, "ack"), long.as_bytes()),
        Err(CommandParseError::Person(PersonError::TooLong))
    );
    assert!(matches!(
        parse(
            &t(),
            ByTopic,
            &t().user_alert_command("li", id, "ack"),
            r#"{"by":"x\u200b"}"#.as_bytes()
        ),
        Err(CommandParseError::Person(_))
    ));
}

#[test]
fn user_names_that_could_escape_an_acl_pattern_are_refused() {
    let id = Ulid::from_parts(1, 2);
    for user in ["", "a+b", "a#", "a b", "李", &"x".repeat(65)] {
        let topic = format!("pingan/home/cmd/users/{user}/alerts/{id}/ack");
        assert!(
            matches!(
                parse(&t(), ByTopic, &topic, b"{}"),
                Err(CommandParseError::User(_) | CommandParseError::Topic(_))
            ),
            "{user:?}"
        );
    }
    assert!(check_user_name("li.na_2-b").is_ok());
}

#[test]
fn alert_ids_beyond_the_ulid_range_are_refused() {
    let body = br#"{"by":"x"}"#;
    assert!(matches!(
        parse(
            &t(),
            ByBody,
            "pingan/home/cmd/alerts/81ARZ3NDEKTSV4RRFFQ69G5FAV/ack",
            body
        ),
        Err(CommandParseError::AlertId(_))
    ));
    assert!(matches!(
        parse(
            &t(),
            ByBody,
            "pingan/home/cmd/alerts/01ARZ3NDEKTSV4RRFFQ69G5FAV/ack",
            body
        ),
        Ok(Some(Parsed::Alert(_)))
    ));
}

proptest! {
    #[test]
    fn any_input_parses_or_errors_without_panic(topic in ".{0,80}", payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        for identity in [ByBody, ByTopic] {
            let _ = parse(&t(), identity, &topic, &payload);
            let _ = parse(&t(), identity, &format!("pingan/home/cmd/{topic}"), &payload);
            let _ = parse(&t(), identity, &format!("pingan/home/cmd/users/{topic}"), &payload);
        }
    }

    #[test]
    fn every_accepted_person_passes_the_audit_checks(name in ".{0,80}") {
        let body = serde_json::json!({"by": name}).to_string();
        let topic = t().alert_command(Ulid::from_parts(1, 2), "ack");
        if let Ok(Some(Parsed::Alert(c))) = parse(&t(), ByBody, &topic, body.as_bytes()) {
            prop_assert!(c.by.checked().is_ok());
        }
    }
}
