//! The Debian package end to end (docs/INSTALL.md). `scripts/package --binary` packages the debug
//! binary this suite already built (stripped, no second build); `dpkg -i` installs it; the files,
//! owners and modes are checked, and that nothing but the binary is needed (no `/usr/lib/pingan`,
//! no ONNX Runtime library); the installed gateway runs as user `pingan` from the installed paths
//! with fall detection on and no libonnxruntime mapped; `dpkg -r` keeps config and data, `dpkg -P`
//! removes them and leaves no file behind; lintian finds nothing.
//!
//! Needs root and dpkg: otherwise it prints why and passes without checking anything. It refuses
//! (skips) when a pingan is already installed, and a guard purges the package — and deletes the
//! user if the test created it — even when an assertion fails.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pingan_tests::{Guard, free_port, pingan_bin, repo_root, wait_for_port};

/// Runs a command to completion.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command that must succeed; returns its stdout.
fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why this machine cannot run the test, if it cannot.
fn skip_reason() -> Option<String> {
    if ok("id", &["-u"]).trim() != "0" {
        return Some("needs root (dpkg -i, a system user); CI runs as root".into());
    }
    if !succeeds("dpkg-deb", &["--version"]) {
        return Some("needs dpkg (a Debian system)".into());
    }
    let status = run("dpkg-query", &["-W", "-f=${Status}", "pingan"]);
    let status = String::from_utf8_lossy(&status.stdout);
    if status.contains("installed") || status.contains("config-files") {
        return Some(format!(
            "a pingan package is already on this machine ({status}); not touching it"
        ));
    }
    [
        "/usr/bin/pingan",
        "/usr/lib/pingan",
        "/etc/pingan",
        "/var/lib/pingan",
    ]
    .iter()
    .find(|p| Path::new(p).exists())
    .map(|p| format!("{p} exists (a pingan installed by hand?); not touching it"))
}

/// Files (not folders) where a package and its maintainer scripts write, to compare the machine
/// before installing and after purging. Folders the system may create for its own bookkeeping
/// and Python byte-code caches (other tests run Python meanwhile) are left out.
fn snapshot() -> BTreeSet<PathBuf> {
    fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let skip = ["/var/lib/dpkg", "/var/lib/apt", "/proc", "/sys"];
            if skip.iter().any(|s| path == Path::new(s)) || path.ends_with("__pycache__") {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&path, out),
                Ok(_) => {
                    // Backups that shadow's tools write next to /etc/passwd and friends.
                    if !path.to_string_lossy().ends_with('-') {
                        out.insert(path);
                    }
                }
                Err(_) => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    for root in [
        "/etc",
        "/lib/systemd",
        "/usr/bin",
        "/usr/lib",
        "/usr/share/doc",
        "/usr/share/man/man1",
        "/usr/share/lintian",
        "/var/lib",
    ] {
        walk(Path::new(root), &mut out);
    }
    out
}

/// Purges the package and removes the user it made, whatever happened in the test.
struct Installed {
    user_existed: bool,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let status = run("dpkg-query", &["-W", "-f=${Status}", "pingan"]);
        if !String::from_utf8_lossy(&status.stdout).contains("not-installed") {
            let _ = run("dpkg", &["--purge", "pingan"]);
        }
        if !self.user_existed && succeeds("getent", &["passwd", "pingan"]) {
            let _ = run("userdel", &["pingan"]);
        }
        if !self.user_existed && succeeds("getent", &["group", "pingan"]) {
            let _ = run("groupdel", &["pingan"]);
        }
    }
}

/// Mode bits, owner name and group name of a path.
fn stat(path: &str) -> (u32, String, String) {
    let m = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let name = |db: &str, id: u32| {
        ok("getent", &[db, &id.to_string()])
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    (
        m.mode() & 0o7777,
        name("passwd", m.uid()),
        name("group", m.gid()),
    )
}

fn assert_stat(path: &str, mode: u32, owner: &str, group: &str) {
    let (m, o, g) = stat(path);
    assert_eq!(
        (m, o.as_str(), g.as_str()),
        (mode, owner, group),
        "{path}: mode {m:o} {o}:{g}, expected {mode:o} {owner}:{group}"
    );
}

/// The gateway as user `pingan` (setpriv keeps the PID: it execs, unlike runuser).
fn gateway_as_pingan(config: &Path, log: &Path) -> Guard {
    let logf = std::fs::File::create(log).unwrap();
    let child = Command::new("setpriv")
        .args(["--reuid=pingan", "--regid=pingan", "--init-groups", "--"])
        .args(["/usr/bin/pingan", "run", "--config"])
        .arg(config)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("RUST_LOG", "info,rumqttd=off")
        .current_dir("/")
        .stdout(logf.try_clone().unwrap())
        .stderr(logf)
        .spawn()
        .expect("setpriv");
    Guard { child }
}

fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Builds the .deb from the suite's debug binary (gzip: seconds, where xz takes a minute).
fn build_package(out: &Path) -> String {
    let build = Command::new(repo_root().join("scripts/package"))
        .arg("--binary")
        .arg(pingan_bin())
        .arg("--out")
        .arg(out)
        .args(["--compression", "gzip", "--no-lintian"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&build.stdout);
    assert!(
        build.status.success(),
        "scripts/package failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let deb = stdout.lines().last().expect("the .deb path").to_owned();
    let arch = ok("dpkg", &["--print-architecture"]);
    assert!(deb.ends_with(&format!("_{}.deb", arch.trim())), "{deb}");
    deb
}

/// Files, owners and modes after `dpkg -i`; the conffile; the unit enabled without systemd; no
/// runtime library beside the binary (the models are built into it).
fn assert_installed_files() {
    assert_stat("/usr/bin/pingan", 0o755, "root", "root");
    let listed = ok("dpkg-query", &["-L", "pingan"]);
    let libs: Vec<&str> = listed
        .lines()
        .filter(|l| l.starts_with("/usr/lib/pingan") || l.contains("libonnxruntime"))
        .collect();
    assert!(libs.is_empty(), "the package ships {libs:?}");
    assert!(
        !Path::new("/usr/lib/pingan").exists(),
        "/usr/lib/pingan exists after dpkg -i"
    );
    assert_stat("/lib/systemd/system/pingan.service", 0o644, "root", "root");
    assert_stat("/usr/lib/sysusers.d/pingan.conf", 0o644, "root", "root");
    assert_stat("/usr/lib/tmpfiles.d/pingan.conf", 0o644, "root", "root");
    assert_stat("/usr/share/doc/pingan/copyright", 0o644, "root", "root");
    assert_stat("/usr/share/man/man1/pingan.1.gz", 0o644, "root", "root");
    assert_stat("/etc/pingan", 0o750, "root", "pingan");
    assert_stat("/etc/pingan/gateway.toml", 0o640, "root", "pingan");
    assert_stat("/var/lib/pingan", 0o700, "pingan", "pingan");
    // Stripped: no symbol table, no DWARF (.debug_gdb_scripts is only a pretty-printer hint).
    let sections = ok("readelf", &["-S", "-W", "/usr/bin/pingan"]);
    let stripped = [".symtab", ".debug_info", ".debug_line"];
    assert!(
        stripped.iter().all(|s| !sections.contains(s)),
        "binary not stripped:\n{sections}"
    );
    let conffiles = ok("dpkg-query", &["-W", "-f=${Conffiles}", "pingan"]);
    assert!(
        conffiles.contains("/etc/pingan/gateway.toml"),
        "{conffiles}"
    );
    let shipped = std::fs::read_to_string("/etc/pingan/gateway.toml").unwrap();
    let default = ok(pingan_bin().to_str().unwrap(), &["print-default-config"]);
    assert_eq!(
        shipped, default,
        "the conffile is not the annotated default"
    );
    // Enabled the way deb-systemd-helper does it, with no systemd running.
    let wants = std::fs::read_link("/etc/systemd/system/multi-user.target.wants/pingan.service")
        .expect("the unit is enabled");
    assert!(
        wants.ends_with("systemd/system/pingan.service"),
        "{wants:?}"
    );
}

/// A system account with no password, no login shell, its home the data folder, in dialout.
fn assert_service_user() {
    let passwd = ok("getent", &["passwd", "pingan"]);
    let fields: Vec<&str> = passwd.trim().split(':').collect();
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "not a system uid: {passwd}");
    assert_eq!(
        &fields[5..],
        ["/var/lib/pingan", "/usr/sbin/nologin"],
        "{passwd}"
    );
    let shadow = ok("getent", &["shadow", "pingan"]);
    let hash = shadow.split(':').nth(1).unwrap_or_default();
    assert!(
        hash.starts_with('!') || hash.starts_with('*'),
        "pingan has a password: {hash}"
    );
    let groups = ok("id", &["-nG", "pingan"]);
    assert!(
        groups.split_whitespace().any(|g| g == "dialout"),
        "{groups}"
    );
}

/// A resident wearing a simulated wristband, appended to the shipped config.
const WEARER: &str = r#"
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
name = "Resident"
birth_year = 1940
sex = "female"
room = "101"
bed = "101-A"

[[devices]]
id = "w1"
model = "wristband"
driver = "sim"
resident = "R1"
"#;

/// The installed gateway as `pingan` on the installed paths (config read through the group,
/// database in /var/lib/pingan); only the ports move to free ones, since CI runs other tests,
/// and maybe a broker, at the same time. Fall detection must start without any ONNX Runtime
/// (none mapped) and the gateway must stop cleanly.
fn assert_gateway_runs_as_pingan(work: &Path) {
    let shipped = std::fs::read_to_string("/etc/pingan/gateway.toml").unwrap();
    let (mqtt, http) = (free_port(), free_port());
    // One resident with a wristband: fall detection starts only for a site with wearables.
    let config = shipped
        .replace("127.0.0.1:1883", &format!("127.0.0.1:{mqtt}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{http}"))
        + WEARER;
    assert!(
        config.contains(&format!(":{mqtt}\"")) && config.contains(&format!(":{http}\"")),
        "the default config no longer binds 127.0.0.1:1883 and :8080"
    );
    assert!(config.contains("data_dir = \"/var/lib/pingan\""));
    let run_dir = work.join("run");
    std::fs::create_dir(&run_dir).unwrap();
    let config_path = run_dir.join("gateway.toml");
    std::fs::write(&config_path, config).unwrap();
    for (p, mode) in [(work, "755"), (&run_dir, "755"), (&config_path, "644")] {
        ok("chmod", &[mode, p.to_str().unwrap()]);
    }
    let log = work.join("gateway.log");
    let mut gw = gateway_as_pingan(&config_path, &log);
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let up = wait_for_port(http, Duration::from_secs(90))
        && wait_for_port(mqtt, Duration::from_secs(10));
    assert!(up, "the installed gateway did not come up:\n{}", read_log());
    let pid = gw.pid();
    let uid = ok("id", &["-u", "pingan"]).trim().to_owned();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uids.split_whitespace().skip(1).all(|u| u == uid),
        "{uids}, pingan is {uid}"
    );
    // Fall detection starts before the dashboard binds its port, from the models in the binary:
    // no ONNX Runtime library is mapped (the environment was cleared, no ORT_DYLIB_PATH).
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let ort: Vec<&str> = maps
        .lines()
        .filter(|l| l.contains("libonnxruntime"))
        .collect();
    assert!(ort.is_empty(), "the gateway maps {ort:?}");
    assert!(
        !read_log().contains("fall detection unavailable"),
        "{}",
        read_log()
    );
    let database = || -> Vec<u32> {
        std::fs::read_dir("/var/lib/pingan")
            .map(|d| d.flatten().map(|e| e.metadata().unwrap().uid()).collect())
            .unwrap_or_default()
    };
    wait_until(
        Duration::from_secs(30),
        "the database in /var/lib/pingan",
        || !database().is_empty(),
    );
    gw.signal("TERM");
    assert_eq!(
        gw.wait_exit(Duration::from_secs(60)),
        Some(0),
        "{}",
        read_log()
    );
    let owners = database();
    assert!(
        owners.iter().all(|o| o.to_string() == uid),
        "database not owned by pingan ({uid}): {owners:?}"
    );
}

#[test]
fn debian_package_installs_runs_as_pingan_and_purges_without_a_trace() {
    if let Some(why) = skip_reason() {
        println!(
            "SKIPPED debian_package_installs_runs_as_pingan_and_purges_without_a_trace: {why}"
        );
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let deb = build_package(work.path());
    // lintian reads the .deb while the rest runs; its verdict is checked at the end.
    let lintian = std::thread::spawn({
        let deb = deb.clone();
        move || run("lintian", &["--fail-on", "error,warning", "--info", &deb])
    });

    let before = snapshot();
    let guard = Installed {
        user_existed: succeeds("getent", &["passwd", "pingan"]),
    };
    ok("dpkg", &["--install", &deb]);
    assert_installed_files();
    assert_service_user();
    // The shipped config is valid, checked by the installed binary as the service user.
    let as_pingan = ["--reuid=pingan", "--regid=pingan", "--init-groups", "--"];
    let check = [
        &as_pingan[..],
        &[
            "/usr/bin/pingan",
            "check-config",
            "/etc/pingan/gateway.toml",
        ],
    ]
    .concat();
    ok("setpriv", &check);
    assert_gateway_runs_as_pingan(work.path());

    // remove: the programs go, config and database stay.
    ok("dpkg", &["--remove", "pingan"]);
    for gone in ["/usr/bin/pingan", "/lib/systemd/system/pingan.service"] {
        assert!(!Path::new(gone).exists(), "{gone} left after dpkg -r");
    }
    assert!(
        Path::new("/etc/pingan/gateway.toml").exists(),
        "config removed by dpkg -r"
    );
    let data_left = std::fs::read_dir("/var/lib/pingan").is_ok_and(|mut d| d.next().is_some());
    assert!(data_left, "database removed by dpkg -r");
    let status = ok("dpkg-query", &["-W", "-f=${Status}", "pingan"]);
    assert_eq!(status, "deinstall ok config-files");

    // purge: config and data go and no file is left; the user stays, expired (Debian policy).
    ok("dpkg", &["--purge", "pingan"]);
    for gone in ["/etc/pingan", "/var/lib/pingan"] {
        assert!(!Path::new(gone).exists(), "{gone} left after dpkg -P");
    }
    let after = snapshot();
    let added: Vec<_> = after.difference(&before).collect();
    let removed: Vec<_> = before.difference(&after).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "purge left {added:?}, took {removed:?}"
    );
    let shadow = ok("getent", &["shadow", "pingan"]);
    let expires = shadow.trim().split(':').nth(7);
    assert_eq!(expires, Some("1"), "account not expired: {shadow}");
    // Installing again reactivates the kept user.
    ok("dpkg", &["--install", &deb]);
    let shadow = ok("getent", &["shadow", "pingan"]);
    let expires = shadow.trim().split(':').nth(7);
    assert_eq!(expires, Some(""), "account still expired: {shadow}");
    assert_stat("/var/lib/pingan", 0o700, "pingan", "pingan");
    ok("dpkg", &["--purge", "pingan"]);
    let user_existed = guard.user_existed;
    drop(guard);
    assert!(
        user_existed || !succeeds("getent", &["passwd", "pingan"]),
        "the test's pingan user was not removed"
    );

    let lintian = lintian.join().expect("lintian (scripts/setup installs it)");
    assert!(
        lintian.status.success(),
        "lintian:\n{}{}",
        String::from_utf8_lossy(&lintian.stdout),
        String::from_utf8_lossy(&lintian.stderr)
    );
}

#[test]
fn systemd_example_config_is_the_built_in_default_the_package_installs() {
    let example =
        std::fs::read_to_string(repo_root().join("systemd/gateway.toml.example")).unwrap();
    assert_eq!(
        example,
        ok(pingan_bin().to_str().unwrap(), &["print-default-config"])
    );
}
