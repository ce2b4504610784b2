use super::*;

const MINIMAL: &str = r#"
[site]
id = "t-home"
name = "Test"

[[drivers]]
id = "sim"
driver = "sim"

[[floors]]
id = "1F"

[[rooms]]
id = "101"
floor = "1F"
beds = ["101-A"]

[[residents]]
id = "R1"
name = "Chen"
birth_year = 1940
sex = "female"
room = "101"
bed = "101-A"
care_flags = ["fall_risk"]

[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "R1"
"#;

fn problems(text: &str) -> Vec<String> {
    Config::parse(text, "f.toml")
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn minimal_config_parses() {
    let c = Config::parse(MINIMAL, "f.toml").unwrap();
    assert_eq!(c.site.locale, crate::config::Locale::ZhCn);
    assert_eq!(c.devices.len(), 1);
    assert_eq!(
        c.storage.retention,
        std::time::Duration::from_secs(14 * 86_400)
    );
}

#[test]
fn built_in_default_is_valid() {
    let c = Config::default_config();
    assert_eq!(c.site.id, "my-home");
}

#[test]
fn missing_key_names_the_table_and_field() {
    let text = MINIMAL.replace("name = \"Test\"\n", "");
    assert_eq!(
        problems(&text),
        vec!["f.toml:2:1: site.name: missing field `name`"]
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let text = MINIMAL.replace("birth_year = 1940", "birth_year = \"1940\"");
    assert_eq!(
        problems(&text),
        vec!["f.toml:21:14: residents[0].birth_year: invalid type: string \"1940\", expected u16"]
    );
}

#[test]
fn unknown_key_is_caught() {
    let text = MINIMAL.replace("sex = \"female\"", "sex = \"female\"\ncolour = \"blue\"");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with(
            "f.toml:23:1: residents[0].colour: unknown field `colour`, expected one of"
        ),
        "{}",
        p[0]
    );
}

#[test]
fn device_bound_to_unknown_resident_is_reported_at_the_value() {
    let text = MINIMAL.replace("resident = \"R1\"", "resident = \"R9\"");
    assert_eq!(
        problems(&text),
        vec![
            "f.toml:31:12: devices[0].resident: unknown resident \"R9\"; expected one of the ids in [[residents]]"
        ]
    );
}

#[test]
fn every_cross_check_problem_is_reported() {
    let text = MINIMAL
        .replace("resident = \"R1\"", "resident = \"R9\"")
        .replace("floor = \"1F\"", "floor = \"9F\"")
        .replace("id = \"t-home\"", "id = \"T Home\"");
    let p = problems(&text);
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].starts_with("f.toml:3:6: site.id: \"T Home\" is not a valid site id"));
    assert!(p[1].starts_with("f.toml:15:9: rooms[0].floor: unknown floor \"9F\""));
    assert!(p[2].starts_with("f.toml:31:12: devices[0].resident"));
}

#[test]
fn escalation_levels_need_known_contacts_and_timeouts() {
    let text = format!(
        "{MINIMAL}\n[[contacts]]\nid = \"nurse\"\nname = \"N\"\n\n[[escalation.policies]]\nname = \"m\"\nkinds = [\"sos\"]\n[[escalation.policies.levels]]\ncontacts = [\"nurse\"]\n[[escalation.policies.levels]]\ncontacts = [\"ghost\"]\n"
    );
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(
        p.iter()
            .any(|m| m.contains("escalation.policies[0].levels[0].timeout: expected a timeout"))
    );
    assert!(p.iter().any(|m| {
        m.contains("escalation.policies[0].levels[1].contacts[0]: unknown contact \"ghost\"")
    }));
}

#[test]
fn syntax_error_has_line_and_column() {
    let p = problems("[site\nid = 1");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("f.toml:1:"), "{}", p[0]);
}

#[test]
fn mqtts_uplink_needs_a_ca_file() {
    let text = format!("{MINIMAL}\n[[uplinks]]\nid = \"inst\"\nurl = \"mqtts://broker:8883\"\n");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].contains("uplinks[0].ca_file: an mqtts:// uplink needs `ca_file`"),
        "{}",
        p[0]
    );
}

#[test]
fn a_cluster_uplink_lists_its_nodes_and_each_bad_node_is_reported_at_its_place() {
    let lines = MINIMAL.lines().count();
    let ok = format!(
        "{MINIMAL}\n[[uplinks]]\nid = \"inst\"\nurls = [\"mqtt://n1:1883\", \"mqtt://n2:1883\", \"mqtt://n3\"]\n"
    );
    let c = Config::parse(&ok, "f.toml").unwrap();
    let nodes = c.uplinks[0].endpoints("uplinks[0]").unwrap();
    let hosts: Vec<(&str, u16)> = nodes.iter().map(|n| (n.host.as_str(), n.port)).collect();
    assert_eq!(hosts, vec![("n1", 1883), ("n2", 1883), ("n3", 1883)]);

    let bad = format!(
        "{MINIMAL}\n[[uplinks]]\nid = \"inst\"\nurls = [\"mqtt://n1:1883\", \"http://n2\", \"mqtts://n3:8883\", \"mqtt://n1:1883\"]\n"
    );
    let at = |col: usize, key: &str| format!("f.toml:{}:{col}: uplinks[0].{key}", lines + 4);
    let p = problems(&bad);
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(
        p[0].starts_with(&format!(
            "{}: \"http://n2\" is not a valid uplink address",
            at(27, "urls[1]")
        )),
        "{}",
        p[0]
    );
    assert!(
        p[1].starts_with(&format!(
            "{}: every node of one uplink uses the same scheme",
            at(40, "urls[2]")
        )),
        "{}",
        p[1]
    );
    assert!(
        p[2].starts_with(&format!(
            "{}: \"mqtt://n1:1883\" is listed twice",
            at(59, "urls[3]")
        )),
        "{}",
        p[2]
    );

    let both = format!(
        "{MINIMAL}\n[[uplinks]]\nid = \"inst\"\nurl = \"mqtt://a\"\nurls = [\"mqtt://b\"]\n"
    );
    assert_eq!(
        problems(&both),
        vec![format!(
            "f.toml:{}:8: uplinks[0].urls: set either `url` (one broker) or `urls` (the nodes of a cluster), not both",
            lines + 5
        )]
    );
    let neither = format!("{MINIMAL}\n[[uplinks]]\nid = \"inst\"\n");
    let p = problems(&neither);
    assert!(
        p[0].contains("uplinks[0].id: uplink \"inst\" needs `url = "),
        "{p:?}"
    );
}

#[test]
fn metrics_on_the_network_need_a_token() {
    let text = format!("{MINIMAL}\n[metrics]\nbind = \"0.0.0.0:9464\"\n");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].contains(
            "metrics.bind: 0.0.0.0:9464 is reachable from the network; set metrics.token_file"
        ),
        "{}",
        p[0]
    );
    let ok = format!(
        "{MINIMAL}\n[metrics]\nbind = \"0.0.0.0:9464\"\ntoken_file = \"/etc/pingan/metrics.token\"\n"
    );
    assert!(Config::parse(&ok, "f.toml").is_ok());
    let local = format!("{MINIMAL}\n[metrics]\nbind = \"127.0.0.1:9464\"\n");
    assert!(Config::parse(&local, "f.toml").is_ok());
}

#[test]
fn modbus_devices_must_be_facility_devices_of_that_driver() {
    let text = format!(
        "{MINIMAL}\n[[drivers]]\nid = \"bus\"\ndriver = \"modbus\"\ntransport = \"tcp\"\nhost = \"127.0.0.1:502\"\n\
         [[drivers.devices]]\ndevice = \"w1\"\nunit = 1\nprofile = \"smoke_detector\"\n\
         [[drivers.devices]]\ndevice = \"smoke-9\"\nunit = 2\nprofile = \"smoke_detector\"\n"
    );
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p[0].contains("drivers[1].devices[0].device: device \"w1\" is bound to driver \"sim\" in [[devices]], not to \"bus\""), "{}", p[0]);
    assert!(
        p[1].contains("drivers[1].devices[1].device: device \"smoke-9\" is not in [[devices]]"),
        "{}",
        p[1]
    );
}

#[test]
fn unknown_time_zone_is_an_error_at_its_place_in_the_file() {
    let text = MINIMAL.replace(
        "name = \"Test\"\n",
        "name = \"Test\"\ntimezone = \"Asia/Guangzhou\"\n",
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with("f.toml:5:12: site.timezone: unknown time zone \"Asia/Guangzhou\""),
        "{}",
        p[0]
    );
    let ok = MINIMAL.replace(
        "name = \"Test\"\n",
        "name = \"Test\"\ntimezone = \"Asia/Hong_Kong\"\n",
    );
    let c = Config::parse(&ok, "f.toml").unwrap();
    assert_eq!(c.timezone(), chrono_tz::Asia::Hong_Kong);
    assert_eq!(
        Config::parse(MINIMAL, "f.toml").unwrap().timezone(),
        chrono_tz::Asia::Shanghai
    );
}

#[test]
fn shifts_default_to_day_evening_night() {
    let c = Config::parse(MINIMAL, "f.toml").unwrap();
    let ids: Vec<&str> = c.shifts.list().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["day", "evening", "night"]);
}

#[test]
fn shifts_with_one_start_time_or_a_bad_id_are_refused_at_their_place() {
    let text = format!(
        "{MINIMAL}\n[[shifts]]\nid = \"early\"\nstart = \"06:00\"\n\n[[shifts]]\nid = \"Late Shift\"\nstart = \"06:00\"\n"
    );
    let p = problems(&text);
    assert!(
        p.iter().any(|m| m.contains(":38:")
            && m.contains("shifts[1].id")
            && m.contains("not a valid shift id")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("shifts[1].start") && m.contains("two shifts start at 06:00")),
        "{p:?}"
    );
    let p = problems(&format!("shifts = []\n{MINIMAL}"));
    assert!(p.iter().any(|m| m.contains("at least one")), "{p:?}");
}
