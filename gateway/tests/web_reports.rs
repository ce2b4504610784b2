//! The REST API of the shift pages over the in-memory backend on 127.0.0.1:0: the response
//! report (JSON, CSV in both languages, the tool token of `pingan report`), shift handovers, and
//! device commands run by the logged-in person; and the error codes the dashboard translates.

use pingan_drivers::HealthState;
use pingan_gateway::config::DeviceModel;
use pingan_gateway::web::backend::{DeviceCommandView, DeviceView};

#[path = "web_api/http.rs"]
mod http;
#[path = "web_api/server.rs"]
mod server;
use http::request;
use server::{Server, USER};

fn detector(id: &str, health: HealthState) -> DeviceView {
    DeviceView {
        id: id.into(),
        model: DeviceModel::SmokeDetector,
        resident: None,
        location: Default::default(),
        health,
        battery: None,
        last_seen: None,
        commands: vec![DeviceCommandView {
            name: "silence".into(),
            description: Some("Silence the local sounder".into()),
        }],
    }
}

#[tokio::test]
async fn the_report_counts_an_acknowledged_sos_and_downloads_as_csv_in_either_language() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    assert_eq!(
        s.post(&format!("/api/v1/alerts/{id}/ack"), &l, "{}")
            .await
            .status,
        200
    );
    let r = s.get("/api/v1/report", Some(&l)).await;
    assert_eq!(r.status, 200);
    let json = r.json();
    let total = &json["total"];
    assert_eq!(
        (total["alerts"].as_u64(), total["acknowledged"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(total["time_to_acknowledge"]["max_ms"].as_i64().is_some());
    let csv = s.get("/api/v1/report?format=csv&lang=en", Some(&l)).await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;"))
    );
    let text = String::from_utf8(csv.body).unwrap();
    assert!(
        text.starts_with("\u{feff}Shift,Alert kind,Priority,Alerts,"),
        "{text}"
    );
    assert!(text.contains("All,SOS call,High,1,1,"), "{text}");
    let zh = s
        .get("/api/v1/report?format=csv&lang=zh-CN", Some(&l))
        .await;
    let text = String::from_utf8(zh.body).unwrap();
    assert!(
        text.starts_with("\u{feff}班次,报警类型,优先级,报警数"),
        "{text}"
    );
    assert!(text.contains("全部,紧急呼叫,高,1,1,"), "{text}");
}

#[tokio::test]
async fn a_local_tool_reads_the_report_with_the_token_and_nothing_else() {
    let s = Server::start().await;
    let token = "a".repeat(64);
    let bearer = format!("Bearer {token}");
    let get = |path: &'static str, auth: String| {
        let addr = s.addr;
        async move { request(addr, "GET", path, &[("Authorization", &auth)], b"").await }
    };
    // No token configured: refused.
    assert_eq!(get("/api/v1/report", bearer.clone()).await.status, 401);
    s.backend.set_tool_token(Some(token.clone()));
    assert_eq!(get("/api/v1/report", bearer.clone()).await.status, 200);
    assert_eq!(
        get("/api/v1/report", format!("Bearer {}", "b".repeat(64)))
            .await
            .status,
        401
    );
    // The token is for reports only.
    for path in [
        "/api/v1/alerts",
        "/api/v1/handover",
        "/api/v1/actions",
        "/api/v1/me",
    ] {
        assert_eq!(get(path, bearer.clone()).await.status, 401, "{path}");
    }
}

#[tokio::test]
async fn bad_report_spans_are_bad_requests_that_say_what_to_write() {
    let s = Server::start().await;
    let l = s.login().await;
    for q in [
        "from=last%20week",
        "from=2026-07-02&to=2026-07-01",
        "from=2024-01-01&to=2026-01-01",
        "format=pdf",
        "lang=fr",
    ] {
        let r = s.get(&format!("/api/v1/report?{q}"), Some(&l)).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["code"], "bad_request");
    }
    let r = s.get("/api/v1/report?from=yesterday", Some(&l)).await;
    assert!(
        r.error().contains("expected a date (2026-11-23)"),
        "{}",
        r.error()
    );
}

#[tokio::test]
async fn a_device_command_runs_as_the_logged_in_person_and_is_listed_with_its_outcome() {
    let s = Server::start().await;
    let l = s.login().await;
    s.backend.set_devices(vec![
        detector("smoke-1", HealthState::Online),
        detector("smoke-2", HealthState::Offline),
    ]);
    let devices = s.get("/api/v1/devices", Some(&l)).await.json();
    assert_eq!(devices[0]["commands"][0]["name"], "silence");
    let r = s
        .post("/api/v1/devices/smoke-1/commands/silence", &l, "")
        .await;
    assert_eq!(r.status, 200);
    let rec = r.json();
    assert_eq!(
        (rec["ok"].as_bool(), rec["by"].as_str()),
        (Some(true), Some(USER))
    );
    assert_eq!(rec["action"], "device_command");
    assert_eq!(
        rec["subject"],
        serde_json::json!({"type": "device", "id": "smoke-1"})
    );
    let r = s
        .post(
            "/api/v1/devices/smoke-1/commands/silence",
            &l,
            r#"{"name":"Wang Fang","note":"false alarm, toast"}"#,
        )
        .await;
    assert_eq!(r.json()["by"], format!("Wang Fang ({USER})"));
    let offline = s
        .post("/api/v1/devices/smoke-2/commands/silence", &l, "{}")
        .await
        .json();
    assert_eq!(offline["ok"], false);
    assert!(offline["error"].as_str().is_some());
    let list = s
        .get("/api/v1/devices/smoke-1/actions", Some(&l))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["note"], "false alarm, toast", "newest first");
    assert_eq!(
        s.get("/api/v1/actions?limit=1", Some(&l))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for (path, code) in [
        ("/api/v1/devices/smoke-1/commands/explode", 404),
        ("/api/v1/devices/nobody/commands/silence", 404),
        ("/api/v1/devices/%20x/commands/silence", 400),
    ] {
        let r = s.post(path, &l, "{}").await;
        assert_eq!(r.status, code, "{path}");
    }
    let forged = server::Login {
        cookie: l.cookie.clone(),
        csrf: "x".into(),
    };
    assert_eq!(
        s.post("/api/v1/devices/smoke-1/commands/silence", &forged, "{}")
            .await
            .status,
        403
    );
    assert_eq!(
        s.get("/api/v1/devices/smoke-1/actions", Some(&l))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2,
        "refused commands are not run"
    );
}

#[tokio::test]
async fn the_handover_shows_the_shift_so_far_and_is_made_on_demand() {
    let s = Server::start().await;
    let l = s.login().await;
    s.sos("R1");
    s.backend
        .set_devices(vec![detector("smoke-2", HealthState::Offline)]);
    let preview = s.get("/api/v1/handover", Some(&l)).await.json();
    assert_eq!(preview["open"][0]["kind"], "sos");
    assert_eq!(preview["devices_offline"][0]["id"], "smoke-2");
    assert!(["day", "evening", "night"].contains(&preview["shift"]["shift"].as_str().unwrap()));
    assert!(
        s.get("/api/v1/handovers", Some(&l))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let made = s.post("/api/v1/handover", &l, "").await.json();
    assert_eq!(
        (made["trigger"].as_str(), made["by"].as_str()),
        (Some("on_demand"), Some(USER))
    );
    let list = s.get("/api/v1/handovers", Some(&l)).await.json();
    assert_eq!(list[0]["made_at"], made["made_at"]);
}

#[tokio::test]
async fn errors_carry_a_code_the_dashboard_shows_in_its_language() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    s.post(&format!("/api/v1/alerts/{id}/ack"), &l, "{}").await;
    let r = s
        .post(&format!("/api/v1/alerts/{id}/ack"), &l, r#"{"name":"Li"}"#)
        .await;
    assert_eq!(r.status, 409);
    let body = r.json();
    assert_eq!(
        (body["code"].as_str(), body["by"].as_str()),
        (Some("already_acknowledged"), Some(USER))
    );
    let r = s.get("/api/v1/nothing", Some(&l)).await;
    assert_eq!(r.json()["code"], "not_found");
    assert_eq!(
        s.get("/api/v1/alerts", None).await.json()["code"],
        "unauthorized"
    );
}
