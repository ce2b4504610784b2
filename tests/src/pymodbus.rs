//! A real pymodbus device (`tests/peers/modbus_server.py`) and a socat pty pair for RTU, each
//! started by the test and killed by PID when dropped (also when the test panics).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pingan_drivers::modbus::Profile;
use serde_json::{Value, json};

/// The workspace root, found by walking up from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("drivers").is_dir() && p.join("Cargo.toml").is_file())
        .map_or(here.clone(), Path::to_path_buf)
}

/// `.venv/bin/python` of the nearest ancestor that has one (scripts/setup creates it).
pub fn venv_python() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|p| p.join(".venv/bin/python"))
        .find(|p| p.exists())
        .context("no .venv/bin/python above the tests crate: run scripts/setup")
}

/// A test datastore: the `[example]` tables of `profile` as unit `unit`.
pub fn example_unit(profile: &Profile) -> Value {
    let ex = profile.example.clone().unwrap_or_default();
    let bits = |m: &std::collections::BTreeMap<u16, bool>| -> Value {
        m.iter().map(|(a, v)| (a.to_string(), json!(v))).collect()
    };
    let words = |m: &std::collections::BTreeMap<u16, u16>| -> Value {
        m.iter().map(|(a, v)| (a.to_string(), json!(v))).collect()
    };
    json!({
        "coil": bits(&ex.coil),
        "discrete": bits(&ex.discrete),
        "input": words(&ex.input),
        "holding": words(&ex.holding),
    })
}

/// A running pymodbus server.
#[derive(Debug)]
pub struct ModbusPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// TCP port it listens on (0 for RTU).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl ModbusPeer {
    /// A Modbus TCP server on 127.0.0.1 (ephemeral port) serving `units` (`{"1": {tables}}`).
    pub fn tcp(units: Value) -> anyhow::Result<Self> {
        Self::start(units, &["--tcp", "127.0.0.1:0"])
    }

    /// A Modbus TCP server like [`ModbusPeer::tcp`] with more arguments of
    /// `tests/peers/modbus_server.py` (e.g. `--changing 500`).
    pub fn tcp_with(units: Value, extra: &[&str]) -> anyhow::Result<Self> {
        let mut args = vec!["--tcp", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Self::start(units, &args)
    }

    /// A Modbus RTU server on the serial device `path`.
    pub fn rtu(units: Value, path: &Path) -> anyhow::Result<Self> {
        let path = path.to_string_lossy().into_owned();
        Self::start(units, &["--rtu", &path, "--baud", "19200"])
    }

    fn start(units: Value, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = dir.path().join("datastore.json");
        std::fs::write(&store, serde_json::to_vec(&json!({ "units": units }))?)?;
        let script = workspace_root().join("tests/peers/modbus_server.py");
        let mut child = Command::new(venv_python()?)
            .arg(script)
            .arg("--datastore")
            .arg(&store)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the pymodbus server")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            bail!("no pipes to the pymodbus server");
        };
        let mut peer = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            port: 0,
            _dir: dir,
        };
        let line = peer.read_line()?;
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| format!("unexpected first line from the server: {line:?}"))?;
        peer.port = port;
        Ok(peer)
    }

    fn read_line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the pymodbus server exited");
        }
        Ok(line)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sends one control command and returns its JSON answer.
    pub fn command(&mut self, line: &str) -> anyhow::Result<Value> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        let answer: Value = serde_json::from_str(&self.read_line()?)?;
        if let Some(e) = answer.get("error") {
            bail!("server refused {line:?}: {e}");
        }
        Ok(answer)
    }

    /// Requests the server received, in total.
    pub fn total_requests(&mut self) -> anyhow::Result<u64> {
        Ok(self.command("count")?["total"].as_u64().unwrap_or(0))
    }
}

impl Drop for ModbusPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two connected pseudo-terminals from `socat`, standing in for an RS485 line.
#[derive(Debug)]
pub struct PtyPair {
    child: Child,
    /// The end the device (server) opens.
    pub device_end: PathBuf,
    /// The end the gateway opens.
    pub gateway_end: PathBuf,
    _dir: tempfile::TempDir,
}

impl PtyPair {
    /// Starts `socat` and waits until both links exist.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let a = dir.path().join("device");
        let b = dir.path().join("gateway");
        let child = Command::new("socat")
            .arg("-d")
            .arg("-d")
            .arg(format!("pty,raw,echo=0,link={}", a.display()))
            .arg(format!("pty,raw,echo=0,link={}", b.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting socat (apt-get install socat)")?;
        let pair = Self {
            child,
            device_end: a,
            gateway_end: b,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(pair.device_end.exists() && pair.gateway_end.exists()) {
            if Instant::now() > deadline {
                bail!("socat did not create its ptys");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(pair)
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
