//! Care records and staff accounts while the gateway runs (`pingan run`, its REST API and
//! `pingan user` beside it): only admins may change them (403 `forbidden` for a nurse), every
//! change is in the audit with who and before/after, an escalation change reaches the next SOS
//! without a restart, a disabled nurse's session ends at once, and the changes survive a restart.

use std::time::Duration;

use pingan_tests::http::{Session, request};
use pingan_tests::{
    Subscriber, add_user, free_port, pingan_output, read_log, run_gateway, site_config,
    sos_scenario, wait_for_port,
};
use serde_json::{Value, json};

const EXTRA: &str = "[[contacts]]\nid = \"nurse\"\nname = \"Duty nurse\"\n\n\
    [[contacts]]\nid = \"head\"\nname = \"Head nurse\"\n\n\
    [[escalation.policies]]\nname = \"default\"\n\n\
    [[escalation.policies.levels]]\ncontacts = [\"nurse\"]\n";

fn login_status(http: u16, user: &str, password: &str) -> u16 {
    let body = json!({ "user": user, "password": password }).to_string();
    request(
        http,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        &body,
    )
    .status
}

fn find(actions: &Value, pick: impl Fn(&Value) -> bool) -> &Value {
    actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| pick(a))
        .unwrap_or_else(|| panic!("no such record in {actions:#}"))
}

#[test]
fn admins_change_care_records_and_accounts_while_the_gateway_runs_and_they_last() {
    let dir = tempfile::tempdir().unwrap();
    let (mqtt, http) = (free_port(), free_port());
    // The SOS comes after the escalation has been changed below.
    let config = site_config(
        dir.path(),
        mqtt,
        http,
        2,
        &sos_scenario(&[(0, 15_000)]),
        EXTRA,
    );
    let data = dir.path().join("data");
    add_user(&data, "boss", "boss passphrase");
    add_user(&data, "li", "nurse passphrase");
    let log = dir.path().join("gw.log");
    let mut gw = run_gateway(&config, &log, mqtt);
    assert!(wait_for_port(http, Duration::from_secs(20)));
    let notify = Subscriber::mosquitto_sub(mqtt, &["pingan/t/notify/#"]);

    // The first account added is an admin, the second a nurse: the nurse is refused, typed.
    let nurse = Session::login(http, "li", "nurse passphrase");
    assert_eq!(nurse.get("/api/v1/me").json()["role"], "nurse");
    for r in [
        nurse.get("/api/v1/care"),
        nurse.get("/api/v1/accounts"),
        nurse.post("/api/v1/care/residents/R1", r#"{"care_flags": []}"#),
        nurse.post("/api/v1/care/escalation/reset", "{}"),
        nurse.post("/api/v1/accounts", r#"{"user": "x"}"#),
        nurse.post("/api/v1/accounts/boss/disable", "{}"),
    ] {
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["code"], "forbidden");
    }
    let boss = Session::login(http, "boss", "boss passphrase");
    assert_eq!(boss.get("/api/v1/me").json()["role"], "admin");

    // Care flags: in force at once, audited with before and after.
    let r = boss.post(
        "/api/v1/care/residents/R1",
        r#"{"care_flags": ["bed_exit_watch", "dementia"], "note": "wanders at night"}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let rec = r.json();
    assert_eq!(rec["action"], "care_flags");
    assert_eq!(rec["before"], json!(["fall_risk"]));
    assert_eq!(rec["after"], json!(["dementia", "bed_exit_watch"]));
    let residents = boss.get("/api/v1/residents").json();
    let r1 = find(&residents, |r| r["id"] == "R1");
    assert_eq!(r1["care_flags"], json!(["dementia", "bed_exit_watch"]));
    let bad = [
        (
            "/api/v1/care/residents/R9",
            r#"{"care_flags": []}"#,
            404,
            "unknown_resident",
        ),
        (
            "/api/v1/care/residents/R1",
            r#"{"care_flags": ["flying"]}"#,
            422,
            "unprocessable",
        ),
        (
            "/api/v1/care/escalation",
            r#"{"policies": [{"name": "x", "levels": [{"contacts": ["nobody"]}]}]}"#,
            422,
            "invalid_escalation",
        ),
    ];
    for (path, body, status, code) in bad {
        let r = boss.post(path, body);
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (status, json!(code)),
            "{path} {body}"
        );
    }

    // Escalation: the head nurse after 2 s without acknowledgement, for the SOS still to come.
    let policies = json!({"policies": [{"name": "default", "kinds": [], "levels": [
        {"contacts": ["nurse"], "timeout": "2s"}, {"contacts": ["head"]}]}]});
    let r = boss.post("/api/v1/care/escalation", &policies.to_string());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        notify
            .until(Duration::from_secs(60), |l| l
                .contains("pingan/t/notify/head/"))
            .is_some(),
        "the SOS escalated to the head nurse without a restart; log:\n{}",
        read_log(&log)
    );

    // Accounts while the gateway runs: the command line through its API, the dashboard.
    let (code, out, err) = pingan_output(&[
        "user",
        "add",
        "nina",
        "--generate",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("user nina added (nurse)"), "{out}");
    let pw = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password");
    assert_eq!(login_status(http, "nina", pw), 200);
    let r = boss.post("/api/v1/accounts/li/disable", "{}");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        nurse.get("/api/v1/me").status,
        401,
        "the session ended at once"
    );
    assert_eq!(login_status(http, "li", "nurse passphrase"), 401);
    let r = boss.post("/api/v1/accounts/boss/disable", "{}");
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("last_admin"))
    );
    let (code, out, err) = pingan_output(&["user", "list", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("li\tnurse\tdisabled"), "{out}");

    let actions = boss.get("/api/v1/actions?limit=50").json();
    let flags = find(&actions, |a| a["action"] == "care_flags");
    assert_eq!(
        (flags["by"].clone(), flags["via"].clone()),
        (json!("boss"), json!("http"))
    );
    assert_eq!(flags["subject"], json!({"type": "resident", "id": "R1"}));
    assert_eq!(flags["note"], "wanders at night");
    let esc = find(&actions, |a| a["action"] == "escalation");
    assert_eq!(esc["after"][0]["levels"][1]["contacts"], json!(["head"]));
    let added = find(&actions, |a| {
        a["action"] == "account_added" && a["subject"]["id"] == "nina"
    });
    assert_eq!(added["via"], "cli");
    let disabled = find(&actions, |a| a["action"] == "account_disabled");
    assert_eq!(
        (disabled["by"].clone(), disabled["subject"]["id"].clone()),
        (json!("boss"), json!("li"))
    );

    // A restart keeps all of it; the site file is untouched.
    gw.signal("TERM");
    assert!(
        gw.wait_exit(Duration::from_secs(30)).is_some(),
        "the gateway stopped"
    );
    drop(gw);
    let log2 = dir.path().join("gw2.log");
    let _gw = run_gateway(&config, &log2, mqtt);
    assert!(wait_for_port(http, Duration::from_secs(20)));
    let boss = Session::login(http, "boss", "boss passphrase");
    let care = boss.get("/api/v1/care").json();
    let r1 = find(&care["residents"], |r| r["id"] == "R1");
    assert_eq!(r1["care_flags"], json!(["dementia", "bed_exit_watch"]));
    assert_eq!(
        (r1["changed"].clone(), r1["site_flags"].clone()),
        (json!(true), json!(["fall_risk"]))
    );
    assert_eq!(care["escalation"]["changed"], true);
    assert_eq!(
        login_status(http, "li", "nurse passphrase"),
        401,
        "still disabled"
    );
    assert!(
        read_log(&log2).contains("care records changed on the dashboard apply over the site file")
    );
    // Reset: the site file's flags again, audited.
    let r = boss.post("/api/v1/care/residents/R1/reset", "{}");
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json()["reset"].clone(), r.json()["after"].clone()),
        (json!(true), json!(["fall_risk"]))
    );
}
