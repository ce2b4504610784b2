//! The server under test: the real router on 127.0.0.1:0 over the in-memory backend with one
//! staff account, and requests as that account.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pingan_drivers::Timestamp;
use pingan_gateway::alert::{
    Alert, AlertKind, EngineSettings, Event, Level, Location, Policies, Priority, Subject,
};
use pingan_gateway::web::backend::{StatusView, UplinkView};
use pingan_gateway::web::memory::MemoryBackend;
use tokio_util::sync::CancellationToken;

use super::http::{Resp, request};

pub(crate) const USER: &str = "li.na";
pub(crate) const PASSWORD: &str = "correct horse battery";

// ---------- the server under test ----------

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) backend: Arc<MemoryBackend>,
    pub(crate) shutdown: CancellationToken,
    #[allow(dead_code)] // kept so the server task is not detached
    pub(crate) task: Option<tokio::task::JoinHandle<Result<(), pingan_gateway::web::WebError>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) struct Login {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

impl Server {
    pub(crate) async fn start() -> Self {
        let accounts = pingan_gateway::store::Store::temporary()
            .and_then(|s| s.accounts())
            .expect("temp accounts");
        pingan_gateway::web::add_user(&accounts, USER, PASSWORD).expect("add user");
        let policies = Policies::new(
            [(
                AlertKind::Sos,
                vec![Level {
                    contacts: vec!["nurse".into()],
                    timeout: Some(Duration::from_secs(60)),
                }],
            )]
            .into_iter()
            .collect(),
            Vec::new(),
        );
        let backend = Arc::new(MemoryBackend::new(
            accounts,
            EngineSettings {
                cancel_window: Duration::from_secs(10),
                clear_debounce: Duration::from_secs(30),
            },
            Arc::new(policies),
            StatusView {
                site: "t".into(),
                site_name: "Test home".into(),
                locale: "zh-CN".into(),
                uptime_s: 1,
                readings_per_s: 0.0,
                readings_total: 0,
                open_alerts: 0,
                uplinks: vec![UplinkView {
                    id: "inst".into(),
                    connected: true,
                    outbox_depth: 2,
                }],
                storage_bytes: 10,
                storage_max_bytes: 100,
                fall_detection: false,
                timezone: "Asia/Shanghai".into(),
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(pingan_gateway::web::serve(
            listener,
            backend.clone(),
            shutdown.clone(),
        ));
        Self {
            addr,
            backend,
            shutdown,
            task: Some(task),
        }
    }

    pub(crate) async fn get(&self, path: &str, login: Option<&Login>) -> Resp {
        let cookie;
        let mut h = vec![];
        if let Some(l) = login {
            cookie = l.cookie.clone();
            h.push(("Cookie", cookie.as_str()));
        }
        request(self.addr, "GET", path, &h, b"").await
    }

    pub(crate) async fn post(&self, path: &str, login: &Login, body: &str) -> Resp {
        request(
            self.addr,
            "POST",
            path,
            &[
                ("Cookie", &login.cookie),
                ("X-CSRF-Token", &login.csrf),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
        .await
    }

    pub(crate) async fn try_login(&self, user: &str, password: &str) -> Resp {
        let body = serde_json::json!({ "user": user, "password": password }).to_string();
        request(
            self.addr,
            "POST",
            "/api/v1/login",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    pub(crate) async fn login(&self) -> Login {
        self.login_as(USER, PASSWORD).await
    }

    pub(crate) async fn login_as(&self, user: &str, password: &str) -> Login {
        let r = self.try_login(user, password).await;
        assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
        let set = r.header("set-cookie").expect("a session cookie").to_owned();
        Login {
            cookie: set.split(';').next().unwrap_or_default().to_owned(),
            csrf: r.json()["csrf"].as_str().expect("csrf").to_owned(),
        }
    }

    pub(crate) fn sos(&self, resident: &str) -> Alert {
        let mut ev = Event::raise(
            AlertKind::Sos,
            Subject::Resident(resident.into()),
            Priority::High,
            Timestamp::now(),
        );
        ev.location = Location {
            floor: Some("2".into()),
            room: Some("201".into()),
            bed: Some("A".into()),
        };
        self.backend.event(ev).expect("a raised alert")
    }
}
