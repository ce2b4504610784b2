//! `pingan status`: asks the running gateway for its health report over its dashboard's
//! `GET /healthz` and prints it (or the JSON with `--json`). The exit code says whether
//! something needs a person (docs/CLI.md lists the conditions).
//!
//! It finds the gateway like `pingan alerts` finds its broker: the running gateway writes its
//! dashboard's address into `pingan-http` in its data directory (`--data-dir`, or the config's
//! `storage.data_dir`); `--url` names it directly.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::alerts::Location;
use crate::health::{HealthReport, Overall};

/// Options of `pingan status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the health report as JSON (docs/schema/health-report.schema.json).
    #[arg(long)]
    pub json: bool,
    /// The gateway's dashboard address, e.g. http://127.0.0.1:8080 (default: read from the
    /// data directory's `pingan-http`).
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub at: Location,
}

/// Exit code when nothing needs a person.
const OK: u8 = 0;
/// Exit code when something needs a person.
const ATTENTION: u8 = 1;
/// Exit code when the gateway cannot be asked.
const UNREACHABLE: u8 = 2;

/// Runs `pingan status`.
pub async fn run(args: StatusArgs) -> ExitCode {
    match fetch(&args).await {
        Ok((report, raw)) => {
            if args.json {
                println!("{raw}");
            } else {
                print!("{}", render(&report));
            }
            ExitCode::from(match report.status {
                Overall::Ok => OK,
                Overall::Attention => ATTENTION,
            })
        }
        Err(msg) => {
            eprintln!("pingan status: {msg}");
            ExitCode::from(UNREACHABLE)
        }
    }
}

fn address(args: &StatusArgs) -> Result<String, String> {
    if let Some(url) = &args.url {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("--url {url}: expected http://HOST:PORT (the dashboard's address)")
        })?;
        return Ok(rest.trim_end_matches('/').to_owned());
    }
    let dir: PathBuf = super::alerts::data_dir(&args.at)?;
    let file = dir.join("pingan-http");
    let addr = std::fs::read_to_string(&file).map_err(|e| {
        format!(
            "cannot read {}: {e} (is the gateway running with this data directory? or pass --url)",
            file.display()
        )
    })?;
    let addr = addr.trim();
    // A gateway listening on every address answers on loopback.
    Ok(addr
        .strip_prefix("0.0.0.0:")
        .map_or_else(|| addr.to_owned(), |port| format!("127.0.0.1:{port}")))
}

async fn fetch(args: &StatusArgs) -> Result<(HealthReport, String), String> {
    let addr = address(args)?;
    let (code, body) = tokio::time::timeout(Duration::from_secs(5), get(&addr, "/healthz"))
        .await
        .map_err(|_| format!("the gateway at {addr} did not answer within 5 s"))??;
    let report: HealthReport = serde_json::from_str(&body).map_err(|e| {
        format!(
            "the gateway at {addr} answered {code} with something that is not a health report: {e}"
        )
    })?;
    Ok((report, body))
}

/// One HTTP/1.1 GET on a fresh connection: (status code, body).
async fn get(addr: &str, path: &str) -> Result<(u16, String), String> {
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot reach the gateway at {addr}: {e} (is it running?)"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    parse_response(&raw).ok_or_else(|| format!("{addr} did not answer with HTTP"))
}

/// Status code and body of a complete HTTP/1.1 response (plain or chunked).
fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return Some((code, body.to_owned()));
    }
    let mut out = String::new();
    let mut rest = body;
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some((code, out));
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// The report as a person reads it.
fn render(r: &HealthReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let overall = match r.status {
        Overall::Ok => "ok",
        Overall::Attention => "NEEDS ATTENTION",
    };
    let _ = writeln!(
        s,
        "pingan {} · site {} · up {} s · {overall}",
        r.version, r.site, r.uptime_s
    );
    let _ = writeln!(s, "links:");
    for l in &r.links {
        let state = match l.down_for_s {
            None => "connected".to_owned(),
            Some(d) => format!("down {d} s"),
        };
        let oldest = l
            .outbox_oldest_age_s
            .map(|a| format!(" (oldest {a} s)"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<14} {:<14} outbox {}{oldest}",
            l.id, state, l.outbox_depth
        );
    }
    let _ = writeln!(s, "drivers:");
    for d in &r.drivers {
        let _ = writeln!(
            s,
            "  {:<14} {} devices: {} online, {} degraded, {} offline",
            d.id, d.devices, d.online, d.degraded, d.offline
        );
    }
    let st = &r.store;
    let disk = match (st.disk_free_bytes, st.disk_total_bytes) {
        (Some(f), Some(t)) => format!(" · disk {} free of {}", mb(f), mb(t)),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "store: {} of {} budget{disk}",
        mb(st.bytes),
        mb(st.max_bytes)
    );
    let fall = if r.models.fall_detection {
        "running"
    } else if !r.models.fall_needed {
        "not needed (no wearable configured; the model is not loaded)"
    } else {
        "NOT running"
    };
    let _ = writeln!(s, "fall detection: {fall}");
    let _ = writeln!(s, "open alerts: {}", r.open_alerts);
    if !r.problems.is_empty() {
        let _ = writeln!(s, "needs a person:");
        for p in &r.problems {
            let code = serde_json::to_value(p.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = writeln!(s, "  - {code}: {}", p.detail);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn responses_parse_plain_and_chunked() {
        let plain = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain), Some((503, "{}".into())));
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((200, "{\"a\":1}".into())));
        assert_eq!(parse_response(b"garbage"), None);
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"),
            None
        );
    }
}
