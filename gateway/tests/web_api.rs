//! REST API and event-stream tests: the real router served on 127.0.0.1:0 over the in-memory
//! backend (the real alert engine), driven by a small HTTP/1.1 client over a TCP socket.

use std::time::{Duration, Instant};

use pingan_gateway::alert::{Actor, Role, Via};
use pingan_gateway::web::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "web_api/http.rs"]
mod http;
#[path = "web_api/server.rs"]
mod server;
use http::{request, request_bytes};
use server::{Login, PASSWORD, Server, USER};

// ---------- tests ----------

#[tokio::test]
async fn every_api_refuses_requests_without_a_session_with_a_json_401() {
    let s = Server::start().await;
    let id = s.sos("R1").id;
    for path in [
        "/api/v1/alerts".to_owned(),
        format!("/api/v1/alerts/{id}"),
        "/api/v1/residents".into(),
        "/api/v1/devices".into(),
        "/api/v1/status".into(),
        "/api/v1/events".into(),
        "/api/v1/me".into(),
    ] {
        let r = s.get(&path, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.error(), "not logged in");
    }
    let forged = Login {
        cookie: format!("pingan_session={}", "a".repeat(64)),
        csrf: "x".into(),
    };
    let r = s
        .post(&format!("/api/v1/alerts/{id}/ack"), &forged, "{}")
        .await;
    assert_eq!(r.status, 401);
    assert!(
        s.backend
            .alert(id)
            .is_some_and(|d| d.alert.acknowledged_by.is_none())
    );
}

#[tokio::test]
async fn login_sets_an_httponly_strict_cookie_and_returns_a_csrf_token() {
    let s = Server::start().await;
    let r = s.try_login(USER, PASSWORD).await;
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").expect("cookie");
    assert!(cookie.starts_with("pingan_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let me = r.json();
    assert_eq!(me["user"], USER);
    assert_eq!(me["csrf"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_the_address_is_throttled_with_retry_after() {
    let s = Server::start().await;
    let r = s.try_login(USER, "wrong password").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error(), "wrong user name or password");
    let r = s.try_login("nobody", PASSWORD).await;
    assert_eq!(r.status, 401, "unknown users get the same answer");
    // Ten failures from one address are free (a shared station PC); the next attempt waits.
    for _ in 0..8 {
        s.try_login("nobody", "wrong password").await;
    }
    let r = s.try_login(USER, PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n > 0))
    );
}

#[tokio::test]
async fn a_post_without_the_csrf_header_is_forbidden_and_changes_nothing() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    let r = request(
        s.addr,
        "POST",
        &format!("/api/v1/alerts/{id}/ack"),
        &[("Cookie", &l.cookie), ("Content-Type", "application/json")],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 403);
    let wrong = Login {
        cookie: l.cookie.clone(),
        csrf: "0".repeat(64),
    };
    assert_eq!(
        s.post(&format!("/api/v1/alerts/{id}/ack"), &wrong, "{}")
            .await
            .status,
        403
    );
    assert!(
        s.backend
            .alert(id)
            .is_some_and(|d| d.alert.acknowledged_by.is_none())
    );
}

#[tokio::test]
async fn acknowledging_records_the_person_and_a_second_acknowledgement_conflicts() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    let r = s
        .post(
            &format!("/api/v1/alerts/{id}/ack"),
            &l,
            r#"{"name":"王芳","note":"在床边"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let a = r.json();
    assert_eq!(a["state"], "acknowledged");
    assert_eq!(a["acknowledged_by"], format!("王芳 ({USER})"));
    let r = s.post(&format!("/api/v1/alerts/{id}/ack"), &l, "").await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("王芳"));
}

#[tokio::test]
async fn an_alert_acknowledged_over_mqtt_conflicts_on_the_dashboard() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    s.backend
        .command(id, &Actor::named("night nurse"), None, Via::Mqtt, false)
        .expect("MQTT acknowledgement");
    let r = s.post(&format!("/api/v1/alerts/{id}/ack"), &l, "{}").await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("night nurse"));
}

#[tokio::test]
async fn resolving_closes_the_alert_and_the_detail_shows_the_audit_trail() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    let r = s
        .post(
            &format!("/api/v1/alerts/{id}/resolve"),
            &l,
            r#"{"note":"false alarm"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["state"], "resolved");
    let d = s
        .get(&format!("/api/v1/alerts/{id}"), Some(&l))
        .await
        .json();
    let audit = d["audit"].as_array().expect("audit");
    let actions: Vec<&str> = audit.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["raised", "resolved"]);
    assert_eq!(audit[1]["via"], "http");
    assert_eq!(audit[1]["by"], USER);
    assert_eq!(audit[1]["note"], "false alarm");
    let r = s
        .post(&format!("/api/v1/alerts/{id}/resolve"), &l, "{}")
        .await;
    assert_eq!(r.status, 404, "a resolved alert takes no more commands");
}

#[tokio::test]
async fn bad_ids_unknown_alerts_and_bad_bodies_get_typed_json_errors() {
    let s = Server::start().await;
    let l = s.login().await;
    let id = s.sos("R1").id;
    let unknown = ulid::Ulid::new();
    let cases: Vec<(String, String, u16)> = vec![
        (format!("/api/v1/alerts/{unknown}/ack"), "{}".into(), 404),
        ("/api/v1/alerts/not-a-ulid/ack".into(), "{}".into(), 400),
        (format!("/api/v1/alerts/{id}/ack"), "{\"name\":".into(), 400),
        (
            format!("/api/v1/alerts/{id}/ack"),
            r#"{"nme":"x"}"#.into(),
            400,
        ),
        (
            format!("/api/v1/alerts/{id}/ack"),
            format!(r#"{{"note":"{}"}}"#, "x".repeat(2001)),
            422,
        ),
        (
            format!("/api/v1/alerts/{id}/ack"),
            format!(r#"{{"note":"{}"}}"#, "x".repeat(20_000)),
            413,
        ),
    ];
    for (path, body, status) in cases {
        let r = s.post(&path, &l, &body).await;
        assert_eq!(r.status, status, "{path} {}", &body[..body.len().min(40)]);
        assert!(!r.error().is_empty());
    }
    assert_eq!(s.get("/api/v1/alerts/xyz", Some(&l)).await.status, 400);
    assert_eq!(
        s.get(&format!("/api/v1/alerts/{unknown}"), Some(&l))
            .await
            .status,
        404
    );
    assert_eq!(
        s.get("/api/v1/alerts?recent_s=abc", Some(&l)).await.status,
        400
    );
    assert_eq!(s.get("/api/v1/nothing", Some(&l)).await.status, 404);
    let r = request(
        s.addr,
        "POST",
        &format!("/api/v1/alerts/{id}/ack"),
        &[
            ("Cookie", &l.cookie),
            ("X-CSRF-Token", &l.csrf),
            ("Content-Type", "text/plain"),
        ],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 415);
    assert!(
        s.backend
            .alert(id)
            .is_some_and(|d| d.alert.acknowledged_by.is_none())
    );
}

#[tokio::test]
async fn lists_alerts_unacknowledged_high_first_with_residents_devices_and_status() {
    let s = Server::start().await;
    let l = s.login().await;
    let first = s.sos("R1").id;
    let second = s.sos("R2").id;
    s.backend
        .command(first, &Actor::account("x"), None, Via::Http, false)
        .expect("ack");
    let list = s.get("/api/v1/alerts", Some(&l)).await.json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, [second.to_string(), first.to_string()]);
    assert_eq!(
        s.get("/api/v1/residents", Some(&l)).await.json(),
        serde_json::json!([])
    );
    assert_eq!(
        s.get("/api/v1/devices", Some(&l)).await.json(),
        serde_json::json!([])
    );
    let st = s.get("/api/v1/status", Some(&l)).await.json();
    assert_eq!(st["locale"], "zh-CN");
    assert_eq!(st["open_alerts"], 2);
    assert_eq!(st["uplinks"][0]["outbox_depth"], 2);
}

#[tokio::test]
async fn the_event_stream_delivers_an_alert_raised_after_connecting() {
    let s = Server::start().await;
    let l = s.login().await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    stream
        .write_all(&request_bytes(
            "GET",
            "/api/v1/events",
            &[("Cookie", &l.cookie)],
            b"",
        ))
        .await
        .expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Wait for the response head so the subscription exists before the alert is raised.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "stream closed");
        buf.extend_from_slice(&chunk[..n]);
    }
    assert!(String::from_utf8_lossy(&buf).contains("text/event-stream"));
    let raised = Instant::now();
    let id = s.sos("R9").id.to_string();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let text = String::from_utf8_lossy(&buf);
            if text.contains("event: alert") && text.contains(&id) {
                return raised.elapsed();
            }
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "stream closed");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the alert arrives on the stream");
    println!("SSE latency raise → client: {found:?}");
}

#[tokio::test]
async fn shutdown_ends_open_event_streams_and_the_server() {
    let mut s = Server::start().await;
    let l = s.login().await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    stream
        .write_all(&request_bytes(
            "GET",
            "/api/v1/events",
            &[("Cookie", &l.cookie)],
            b"",
        ))
        .await
        .expect("write");
    let mut chunk = [0u8; 1024];
    let n = stream.read(&mut chunk).await.expect("head");
    assert!(n > 0);
    s.shutdown.cancel();
    let task = s.task.take().expect("task");
    let r = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("server stops although a browser is connected");
    assert!(matches!(r, Ok(Ok(()))));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let s = Server::start().await;
    let l = s.login().await;
    assert_eq!(s.get("/api/v1/me", Some(&l)).await.status, 200);
    let r = s.post("/api/v1/logout", &l, "").await;
    assert_eq!(r.status, 204);
    assert!(
        r.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    assert_eq!(s.get("/api/v1/me", Some(&l)).await.status, 401);
}

#[tokio::test]
async fn the_dashboard_is_embedded_with_etags_and_fits_the_page_budget() {
    let s = Server::start().await;
    let index = s.get("/", None).await;
    assert_eq!(index.status, 200);
    let html = String::from_utf8_lossy(&index.body).into_owned();
    assert!(html.contains("lang=\"zh-CN\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
    assert!(
        index
            .header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'self'"))
    );
    for path in [
        "/app.js",
        "/i18n.js",
        "/devices.js",
        "/shift.js",
        "/app.css",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("cache-control")
                .is_some_and(|c| c.contains("max-age=31536000"))
        );
        let etag = r.header("etag").expect("etag").to_owned();
        assert!(
            html.contains(&format!("{path}?v={}", etag.trim_matches('"'))),
            "{path} is versioned"
        );
        let again = request(s.addr, "GET", path, &[("If-None-Match", &etag)], b"").await;
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
    }
    assert!(pingan_gateway::web::page_weight() <= 300 * 1024);
    let spec = s.get("/api/v1/openapi.yaml", None).await;
    assert_eq!(spec.status, 200);
    assert!(String::from_utf8_lossy(&spec.body).contains("/api/v1/alerts/{id}/ack"));
}

#[tokio::test]
async fn care_records_and_accounts_are_for_admins_only_and_account_changes_are_audited() {
    let s = Server::start().await;
    // The server's first account is an admin; a second one made a nurse.
    let accounts = s.backend.accounts();
    pingan_gateway::web::add_user_as(&accounts, "wang", PASSWORD, Role::Nurse).unwrap();
    let nurse = s.login_as("wang", PASSWORD).await;
    assert_eq!(
        s.get("/api/v1/me", Some(&nurse)).await.json()["role"],
        "nurse"
    );
    for r in [
        s.get("/api/v1/care", Some(&nurse)).await,
        s.get("/api/v1/accounts", Some(&nurse)).await,
        s.post("/api/v1/care/residents/R1", &nurse, r#"{"care_flags": []}"#)
            .await,
        s.post("/api/v1/accounts", &nurse, r#"{"user": "x"}"#).await,
        s.post("/api/v1/accounts/li.na/disable", &nurse, "{}").await,
    ] {
        assert_eq!(r.status, 403);
        assert_eq!(r.json()["code"], "forbidden");
    }
    let admin = s.login().await;
    assert_eq!(
        s.get("/api/v1/me", Some(&admin)).await.json()["role"],
        "admin"
    );
    // This backend keeps no care records: a typed 503, not a panic.
    let r = s.get("/api/v1/care", Some(&admin)).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (503, "unavailable".into())
    );
    // Without the CSRF header an admin's change is refused like any POST.
    let r = request(
        s.addr,
        "POST",
        "/api/v1/accounts",
        &[
            ("Cookie", &admin.cookie),
            ("Content-Type", "application/json"),
        ],
        br#"{"user": "zhao"}"#,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "csrf");
    let r = s
        .post(
            "/api/v1/accounts",
            &admin,
            r#"{"user": "zhao", "note": "night shift"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    let added = r.json();
    assert_eq!(added["account"]["role"], "nurse");
    assert_eq!(added["password"].as_str().map(str::len), Some(19));
    let r = s
        .post("/api/v1/accounts", &admin, r#"{"user": "zhao"}"#)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, "user_exists".into())
    );
    let r = s.post("/api/v1/accounts/wang/disable", &admin, "{}").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.get("/api/v1/me", Some(&nurse)).await.status,
        401,
        "the session ended"
    );
    let r = s
        .post(
            "/api/v1/accounts/li.na/role",
            &admin,
            r#"{"role": "nurse"}"#,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, "last_admin".into())
    );
    let r = s.post("/api/v1/accounts/nobody/enable", &admin, "{}").await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, "unknown_user".into())
    );
    let r = s.post("/api/v1/accounts/wang/fly", &admin, "{}").await;
    assert_eq!(r.status, 404);
    let actions = s.get("/api/v1/actions", Some(&admin)).await.json();
    let got: Vec<(String, String, String)> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let f = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (
                f("action"),
                a["subject"]["id"].as_str().unwrap_or_default().to_owned(),
                f("by"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("account_disabled".into(), "wang".into(), "li.na".into()),
            ("account_added".into(), "zhao".into(), "li.na".into()),
        ]
    );
    assert_eq!(actions[1]["note"], "night shift");
}

#[tokio::test]
async fn a_disabled_accounts_open_event_stream_ends_without_another_alert() {
    let s = Server::start().await;
    let accounts = s.backend.accounts();
    pingan_gateway::web::add_user_as(&accounts, "wang", PASSWORD, Role::Nurse).unwrap();
    let nurse = s.login_as("wang", PASSWORD).await;
    let admin = s.login().await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    stream
        .write_all(&request_bytes(
            "GET",
            "/api/v1/events",
            &[("Cookie", &nurse.cookie)],
            b"",
        ))
        .await
        .expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "stream closed");
        buf.extend_from_slice(&chunk[..n]);
    }
    let r = s.post("/api/v1/accounts/wang/disable", &admin, "{}").await;
    assert_eq!(r.status, 200);
    let id = s.sos("R9").id.to_string();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if buf.ends_with(b"0\r\n\r\n") {
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ended");
    assert!(
        !String::from_utf8_lossy(&buf).contains(&id),
        "no alert after the account was disabled"
    );
}
