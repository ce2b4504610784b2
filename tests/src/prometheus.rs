//! A real Prometheus server (Debian's `prometheus`) scraping the gateway: started by the test on
//! an ephemeral 127.0.0.1 port with a generated config and its TSDB in a temporary directory,
//! killed by PID when dropped. Queried over its HTTP API (`/api/v1/query`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Guard, free_port, http_get, wait_for_port};

/// A running Prometheus.
#[derive(Debug)]
pub struct Prometheus {
    /// Its HTTP port.
    pub port: u16,
    _guard: Guard,
    _dir: tempfile::TempDir,
}

/// Percent-encodes a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Prometheus {
    /// Scrapes `127.0.0.1:{target}/metrics` every second, sending the token in `token_file` as a
    /// bearer token when given.
    pub fn scraping(target: u16, token_file: Option<&Path>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let auth = token_file
            .map(|f| {
                format!(
                    "    authorization:\n      type: Bearer\n      credentials_file: {}\n",
                    f.display()
                )
            })
            .unwrap_or_default();
        let conf = dir.path().join("prometheus.yml");
        std::fs::write(
            &conf,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: pingan\n    scrape_interval: 1s\n    scrape_timeout: 1s\n{auth}    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus (Debian package prometheus; run scripts/setup)");
        let guard = Guard { child };
        assert!(
            wait_for_port(port, Duration::from_secs(30)),
            "prometheus did not listen on {port}"
        );
        Self {
            port,
            _guard: guard,
            _dir: dir,
        }
    }

    /// The result vector of an instant PromQL query (`data.result`), or why there is none.
    pub fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let path = format!("/api/v1/query?query={}", urlencode(promql));
        let (code, body) = http_get(self.port, &path, &[])?;
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{code}: {e}: {body}"))?;
        if v["status"] != "success" {
            return Err(body);
        }
        Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
    }

    /// The single value of a query whose result is one series, once `accept` holds for it
    /// within `timeout`; the last result otherwise.
    pub fn wait_value(
        &self,
        promql: &str,
        timeout: Duration,
        accept: impl Fn(f64) -> bool,
    ) -> Result<f64, String> {
        let end = Instant::now() + timeout;
        let mut last = Err("no answer yet".to_owned());
        while Instant::now() < end {
            last = self.query(promql).and_then(|r| {
                r.first()
                    .and_then(|s| s["value"][1].as_str())
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| format!("no series: {r:?}"))
            });
            if let Ok(v) = last {
                if accept(v) {
                    return Ok(v);
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        last.map_err(|e| format!("{promql}: {e}"))
    }
}
