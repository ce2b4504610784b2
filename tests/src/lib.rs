//! End-to-end test support: real peers (Mosquitto, mosquitto_sub, paho-mqtt, pymodbus) and the
//! `pingan` binary, each started by the test on 127.0.0.1 with an ephemeral port and killed by
//! PID when its guard drops (also when a test panics).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `pingan` binary of the same build as this test (target/<profile>/pingan).
pub fn pingan_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/pingan
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("pingan");
    assert!(
        bin.exists(),
        "{} missing: build it first (cargo build -p pingan-gateway --bin pingan)",
        bin.display()
    );
    bin
}

/// The project's Python (the venv made by scripts/setup).
pub fn python() -> PathBuf {
    let p = repo_root().join(".venv/bin/python");
    assert!(p.exists(), "{} missing: run scripts/setup", p.display());
    p
}

/// A free TCP port on 127.0.0.1 for a peer to bind a moment later.
///
/// Why not `bind(0)`: the kernel hands its ephemeral ports to client sockets too, so between this
/// call and the peer's bind, a test's own client (mosquitto_sub, a driver's connection) could take
/// the port as its local end and the peer would fail to listen, or a test would talk to the wrong
/// process. The ports come from below the kernel's ephemeral range instead, each handed out once
/// per test process, starting at an offset drawn from the PID so two test processes rarely meet;
/// one still bound by someone else is skipped.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = below_ephemeral_range();
    let span = u32::from(high - low);
    let start = std::process::id().wrapping_mul(2_654_435_761) % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = low + ((start + n) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{high}");
}

/// Ports below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999 by
/// default), above the registered services most machines run.
fn below_ephemeral_range() -> (u16, u16) {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let high = ephemeral_low.clamp(12_000, 32_768);
    (high - 8_000, high)
}

/// Waits until something accepts on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A child process killed (SIGKILL) on drop.
#[derive(Debug)]
pub struct Guard {
    /// The child.
    pub child: Child,
}

impl Guard {
    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by PID (e.g. "TERM", "KILL", "STOP", "CONT").
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
    }

    /// Waits for exit up to `timeout`; returns the exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Mosquitto broker on an ephemeral port with its own config.
#[derive(Debug)]
pub struct Mosquitto {
    /// Its port.
    pub port: u16,
    /// Its config file.
    pub conf: PathBuf,
    guard: Option<Guard>,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts a plain broker (anonymous, persistence on so sessions survive a restart).
    pub fn start() -> Self {
        Self::start_with(free_port(), "")
    }

    /// Starts a broker on `port` with extra listener config lines.
    pub fn start_with(port: u16, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("mosquitto.conf");
        let listener = if extra.contains("listener") {
            String::new()
        } else {
            format!("listener {port} 127.0.0.1\n")
        };
        let text = format!(
            "{listener}{extra}\nallow_anonymous true\n# Run as root (CI): stay root so the test's private temp files stay readable.\nuser root\npersistence true\npersistence_location {}/\nautosave_interval 1\nmax_queued_messages 100000\nlog_dest stderr\nlog_type error\n",
            dir.path().display()
        );
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let mut m = Self {
            port,
            conf,
            guard: None,
            _dir: dir,
        };
        m.restart();
        m
    }

    /// Starts a broker on `port` from a complete config (nothing about anonymous access is
    /// added), plus the test's persistence directory, logging to stderr and `user root` (CI).
    pub fn start_conf(port: u16, conf: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mosquitto.conf");
        let text = format!(
            "{conf}
user root
persistence_location {}/
autosave_interval 1
log_dest stderr
log_type error
",
            dir.path().display()
        );
        std::fs::write(&path, text).expect("write mosquitto.conf");
        let mut m = Self {
            port,
            conf: path,
            guard: None,
            _dir: dir,
        };
        m.restart();
        m
    }

    /// (Re)starts the broker process with the same config and port.
    pub fn restart(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto (Debian package mosquitto; run scripts/setup)");
        self.guard = Some(Guard { child });
        assert!(
            wait_for_port(self.port, Duration::from_secs(10)),
            "mosquitto did not listen on {}",
            self.port
        );
    }

    /// Stops the broker cleanly (SIGTERM: it saves its sessions) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut g) = self.guard.take() {
            g.signal("TERM");
            g.wait_exit(Duration::from_secs(10));
        }
    }
}

/// A subscriber process printing one line per message; lines arrive on a channel.
#[derive(Debug)]
pub struct Subscriber {
    guard: Guard,
    lines: mpsc::Receiver<String>,
}

impl Subscriber {
    /// `mosquitto_sub -v` on `filters`.
    pub fn mosquitto_sub(port: u16, filters: &[&str]) -> Self {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-v", "-q", "1"]);
        for f in filters {
            cmd.args(["-t", f]);
        }
        Self::spawn(cmd)
    }

    /// `mosquitto_sub -v` with a user name and password.
    pub fn mosquitto_sub_auth(port: u16, user: &str, password: &str, filters: &[&str]) -> Self {
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-v",
            "-q",
            "1",
            "-u",
            user,
            "-P",
            password,
        ]);
        for f in filters {
            cmd.args(["-t", f]);
        }
        Self::spawn(cmd)
    }

    /// The paho-mqtt nurse-station script (tests/peers/nurse_station.py) with its arguments.
    pub fn paho(args: &[&str]) -> Self {
        let mut cmd = Command::new(python());
        cmd.arg("-u")
            .arg(repo_root().join("tests/peers/nurse_station.py"))
            .args(args);
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start subscriber");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            guard: Guard { child },
            lines,
        }
    }

    /// The next line within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Lines until one matches `pred` (returned) or `timeout` passes (None).
    pub fn until(&self, timeout: Duration, mut pred: impl FnMut(&str) -> bool) -> Option<String> {
        let end = Instant::now() + timeout;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if pred(&l) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// The first line containing each of `markers` (in their order), waiting up to `timeout` for
    /// all of them; a marker never seen is `None`.
    pub fn first_of_each(&self, timeout: Duration, markers: &[&str]) -> Vec<Option<String>> {
        let mut found: Vec<Option<String>> = vec![None; markers.len()];
        self.until(timeout, |l| {
            for (slot, m) in found.iter_mut().zip(markers) {
                if slot.is_none() && l.contains(m) {
                    *slot = Some(l.to_owned());
                }
            }
            found.iter().all(Option::is_some)
        });
        found
    }

    /// Every line received within `timeout` of quiet.
    pub fn drain(&self, quiet: Duration) -> Vec<String> {
        let mut v = Vec::new();
        while let Ok(l) = self.lines.recv_timeout(quiet) {
            v.push(l);
        }
        v
    }

    /// The subscriber's process.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }
}

/// Splits a `mosquitto_sub -v` line into topic and JSON payload.
pub fn topic_json(line: &str) -> Option<(String, serde_json::Value)> {
    let (topic, payload) = line.split_once(' ')?;
    Some((topic.to_owned(), serde_json::from_str(payload).ok()?))
}

/// A `pingan` process.
pub fn pingan(args: &[&str], log: &Path) -> Guard {
    pingan_env(args, log, &[])
}

/// A `pingan` process with extra environment variables.
pub fn pingan_env(args: &[&str], log: &Path, env: &[(&str, &str)]) -> Guard {
    let logf = std::fs::File::create(log).expect("log file");
    let child = Command::new(pingan_bin())
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info,rumqttd=off")
        .stdout(logf.try_clone().expect("log"))
        .stderr(logf)
        .spawn()
        .expect("start pingan");
    Guard { child }
}

/// Starts `pingan run --config CONFIG` logging to `log`, and waits until its embedded broker
/// listens on `mqtt` (panics with the log otherwise).
pub fn run_gateway(config: &Path, log: &Path, mqtt: u16) -> Guard {
    let g = pingan(&["run", "--config", &config.to_string_lossy()], log);
    assert!(
        wait_for_port(mqtt, Duration::from_secs(20)),
        "gateway broker did not listen; log:\n{}",
        read_log(log)
    );
    g
}

/// A log file's text ("" while it does not exist).
pub fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Every alert in a stopped gateway's store (`pingan alerts list --json --data-dir DIR`).
pub fn stored_alerts(data_dir: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = pingan_output(&[
        "alerts",
        "list",
        "--json",
        "--data-dir",
        &data_dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("alert JSON"))
        .collect()
}

/// The stored alert of `kind` about the gateway part `subject_id` (e.g. `"storage"`,
/// `"uplink:x"`) in a stopped gateway's store. Technical alerts raised as the gateway starts can
/// go out before a test's subscriber connects (alerts are not retained): the store is where they
/// must be.
pub fn stored_technical(data_dir: &Path, subject_id: &str) -> serde_json::Value {
    let alerts = stored_alerts(data_dir);
    alerts
        .iter()
        .find(|a| {
            a["kind"] == "technical"
                && a["subject"]["type"] == "gateway"
                && a["subject"]["id"] == subject_id
        })
        .cloned()
        .unwrap_or_else(|| panic!("no technical alert about {subject_id} in {alerts:#?}"))
}

/// Publishes one QoS 1 message on the broker at 127.0.0.1:`port` with `mosquitto_pub`.
pub fn mosquitto_pub(port: u16, topic: &str, body: &str) {
    let ok = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "1",
            "-t",
            topic,
            "-m",
            body,
        ])
        .status()
        .expect("mosquitto_pub (Debian package mosquitto-clients)");
    assert!(ok.success(), "mosquitto_pub {topic}");
}

/// Runs `pingan` to completion: (exit code, stdout, stderr).
pub fn pingan_output(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(pingan_bin())
        .args(args)
        .output()
        .expect("run pingan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` to `path` (test fixtures made at run time).
pub fn write(path: &Path, text: &str) {
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
}

/// A small site config for tests: `residents` residents in rooms of two, each with a pendant
/// `p-N` (resident `R{N}`), the simulator playing `scenario`, the embedded broker on `mqtt`, the
/// dashboard on `http`, plus `extra` TOML (contacts, policies, uplinks).
pub fn site_config(
    dir: &Path,
    mqtt: u16,
    http: u16,
    residents: usize,
    scenario: &str,
    extra: &str,
) -> PathBuf {
    let mut t = format!(
        "[site]\nid = \"t\"\nname = \"Test home\"\nlocale = \"en\"\ncallback_phone = \"+86 750 1234567\"\n\n\
         [storage]\ndata_dir = \"{}\"\n\n[mqtt]\nbind = \"127.0.0.1:{mqtt}\"\n\n[http]\nbind = \"127.0.0.1:{http}\"\n\n\
         [alerts]\ncancel_window = \"2s\"\n\n\
         [[drivers]]\nid = \"sim\"\ndriver = \"sim\"\nscenario = \"scenario.toml\"\n\n[[floors]]\nid = \"1F\"\n\n",
        dir.join("data").display()
    );
    for r in 0..residents.div_ceil(2) {
        t.push_str(&format!(
            "[[rooms]]\nid = \"{r}\"\nfloor = \"1F\"\nbeds = [\"{r}-A\", \"{r}-B\"]\n\n"
        ));
    }
    for n in 0..residents {
        let room = n / 2;
        let bed = if n % 2 == 0 { "A" } else { "B" };
        t.push_str(&format!(
            "[[residents]]\nid = \"R{n}\"\nname = \"Resident {n}\"\nbirth_year = 1940\nsex = \"female\"\nroom = \"{room}\"\nbed = \"{room}-{bed}\"\ncare_flags = [\"fall_risk\"]\n\n\
             [[devices]]\nid = \"p-{n}\"\nmodel = \"pendant\"\ndriver = \"sim\"\nresident = \"R{n}\"\n\n"
        ));
    }
    t.push_str(extra);
    let path = dir.join("site.toml");
    write(&path, &t);
    write(&dir.join("scenario.toml"), scenario);
    path
}

/// Scenario TOML: an SOS on pendant `p-N` at each `(N, offset_ms)`.
pub fn sos_scenario(presses: &[(usize, u64)]) -> String {
    presses
        .iter()
        .map(|(n, ms)| {
            format!("[[incident]]\nat = \"{ms}ms\"\nkind = \"sos\"\ndevice = \"p-{n}\"\n\n")
        })
        .collect()
}

/// One HTTP/1.1 GET to `127.0.0.1:{port}{path}` with extra header lines: (status, body).
/// Enough for the gateway's and Prometheus' JSON and text answers (plain or chunked bodies).
pub fn http_get(port: u16, path: &str, headers: &[&str]) -> Result<(u16, String), String> {
    use std::io::Read;
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not HTTP: {text}"))?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status: {head}"))?;
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok((code, body.to_owned()));
    }
    let (mut out, mut rest) = (String::new(), body);
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        out.push_str(after.get(..n).ok_or("short chunk")?);
        rest = after
            .get(n..)
            .and_then(|r| r.strip_prefix("\r\n"))
            .unwrap_or("");
    }
    Ok((code, out))
}

/// Waits up to `timeout` for `cond`, polling every 200 ms; whether it came true.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

pub mod http;
pub mod nats;
pub mod prometheus;
pub mod pymodbus;
pub mod schema;
pub mod silent_broker;

/// Adds a dashboard account to the (stopped) gateway's data directory with `pingan user add`.
pub fn add_user(data_dir: &Path, name: &str, password: &str) {
    let mut child = Command::new(pingan_bin())
        .args(["user", "add", name, "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("pingan user add");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(password.as_bytes())
            .expect("password to stdin");
    }
    assert!(
        child.wait().expect("wait").success(),
        "pingan user add {name}"
    );
}
