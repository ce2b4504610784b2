//! Modbus driver and `pingan modbus probe` against a real pymodbus server: TCP on an ephemeral
//! port, RTU through a socat pty pair.

use std::process::ExitCode;
use std::time::Duration;

use pingan_drivers::modbus::library::{self, BUILTIN};
use pingan_drivers::modbus::plan::plan;
use pingan_drivers::modbus::{ModbusConfig, ModbusDriver, ProbeError, ProbeTarget, probe};
use pingan_drivers::{
    ButtonKind, DeviceId, Driver, DriverEvent, HealthState, Measurement, ReadingSink,
};
use pingan_gateway::cli::modbus::{ModbusArgs, ModbusCommand, ParityArg, ProbeArgs, ProbeCliError};
use pingan_tests::pymodbus::{ModbusPeer, PtyPair, example_unit};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Guards against hangs only; no test asserts on elapsed time.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn builtin(name: &str) -> pingan_drivers::modbus::Profile {
    library::builtin(name).unwrap().unwrap()
}

fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a == b,
    }
}

/// Starts a driver from a TOML config; returns the event receiver and its stop token.
fn start_driver(
    config: &str,
) -> (
    mpsc::Receiver<DriverEvent>,
    CancellationToken,
    pingan_drivers::modbus::ModbusCommands,
    std::collections::BTreeMap<DeviceId, std::sync::Arc<pingan_drivers::modbus::DeviceCounters>>,
) {
    let config: ModbusConfig = toml::from_str(config).unwrap();
    let driver = ModbusDriver::new(config, None).unwrap();
    let commands = driver.commands();
    let counters = driver.counters();
    let (sink, rx) = ReadingSink::channel(1024);
    let stop = CancellationToken::new();
    tokio::spawn(driver.run(sink, stop.clone()));
    (rx, stop, commands, counters)
}

/// Receives events until `pred` accepts one; returns every event seen, the accepted one last.
async fn until(
    rx: &mut mpsc::Receiver<DriverEvent>,
    mut pred: impl FnMut(&DriverEvent) -> bool,
) -> Vec<DriverEvent> {
    let mut seen = Vec::new();
    tokio::time::timeout(HANG_GUARD, async {
        while let Some(e) = rx.recv().await {
            let done = pred(&e);
            seen.push(e);
            if done {
                return;
            }
        }
        panic!("driver stopped");
    })
    .await
    .unwrap_or_else(|_| panic!("no matching event; saw {seen:#?}"));
    seen
}

fn health_of(e: &DriverEvent, id: &str, want: HealthState) -> bool {
    matches!(e, DriverEvent::Health { device, state, .. } if device.as_str() == id && *state == want)
}

fn reading_of(e: &DriverEvent, id: &str, pred: impl Fn(&Measurement) -> bool) -> bool {
    matches!(e, DriverEvent::Reading(r) if r.device.as_str() == id && pred(&r.measurement))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_library_profile_decodes_its_example_from_pymodbus_over_tcp() {
    let units: serde_json::Map<String, Value> = BUILTIN
        .iter()
        .enumerate()
        .map(|(i, (name, _))| ((i + 1).to_string(), example_unit(&builtin(name))))
        .collect();
    let peer = ModbusPeer::tcp(Value::Object(units)).unwrap();
    for (i, (name, _)) in BUILTIN.iter().enumerate() {
        let profile = builtin(name);
        let unit = u8::try_from(i + 1).unwrap();
        let target = ProbeTarget::Tcp(peer.address());
        let values = probe(&target, unit, &profile, Duration::from_secs(2))
            .await
            .unwrap();
        let got = values.to_json(&profile);
        let expect = profile.example.clone().unwrap().expect;
        for (point, want) in &expect {
            assert!(
                close(&got[point], want),
                "{name}.{point}: got {}, want {want}",
                got[point]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neighbouring_points_are_read_in_one_request_per_planned_block() {
    let text = r#"
name = "merge"
max_gap = 4
[[points]]
name = "a"
table = "holding"
address = 0
type = "u16"
[[points]]
name = "b"
table = "holding"
address = 1
type = "f32"
byte_order = "CDAB"
[[points]]
name = "c"
table = "holding"
address = 6
type = "i16"
[[points]]
name = "far"
table = "holding"
address = 100
type = "u16"
[[points]]
name = "in1"
table = "discrete"
address = 3
type = "bool"
[[points]]
name = "in2"
table = "discrete"
address = 8
type = "bool"
"#;
    let profile = pingan_drivers::modbus::parse_profile("merge.toml", text).unwrap();
    let blocks = plan(&profile.points, profile.max_gap);
    assert_eq!(blocks.len(), 3, "a+b+c, far, in1+in2");
    let mut peer = ModbusPeer::tcp(
        json!({"1": {"holding": {"0": 1, "1": 0, "2": 0x41AC, "6": 65535, "100": 7}}}),
    )
    .unwrap();
    let values = probe(
        &ProbeTarget::Tcp(peer.address()),
        1,
        &profile,
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    let json = values.to_json(&profile);
    assert_eq!(
        (json["b"].clone(), json["c"].clone()),
        (json!(21.5), json!(-1.0))
    );
    let counts = peer.command("count").unwrap();
    assert_eq!(counts["total"], json!(3), "{counts}");
    assert_eq!(counts["requests"]["1:3"], json!(2));
    assert_eq!(counts["requests"]["1:2"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_driver_sends_measurements_button_edges_and_runs_commands() {
    let units = json!({
        "1": example_unit(&builtin("room_th")),
        "2": example_unit(&builtin("smoke_detector")),
        "3": {"discrete": {}},
    });
    let mut peer = ModbusPeer::tcp(units).unwrap();
    let config = format!(
        r#"
transport = "tcp"
host = "{}"
timeout = "1s"
[[devices]]
device = "room-101"
unit = 1
profile = "room_th"
poll_interval = "100ms"
[[devices]]
device = "smoke-2f"
unit = 2
profile = "smoke_detector"
poll_interval = "100ms"
[[devices]]
device = "call-101"
unit = 3
profile = "nurse_call"
poll_interval = "50ms"
channels = {{ bed2 = "bed-101b" }}
"#,
        peer.address()
    );
    let (mut rx, stop, commands, _) = start_driver(&config);
    // Every event up to the moment all three devices have spoken; states are sent on change,
    // so they are collected from the whole stream rather than waited for one by one.
    let (mut call, mut env, mut smoke) = (false, false, false);
    let seen = until(&mut rx, |e| {
        call |= health_of(e, "call-101", HealthState::Online);
        env |= reading_of(e, "room-101", |m| {
            matches!(m, Measurement::Environment { .. })
        });
        smoke |= reading_of(e, "smoke-2f", |m| *m == Measurement::Smoke { alarm: true });
        call && env && smoke
    })
    .await;
    let env = seen.iter().find_map(|e| match e {
        DriverEvent::Reading(r) if r.device.as_str() == "room-101" => Some(r.measurement.clone()),
        _ => None,
    });
    assert_eq!(
        env,
        Some(Measurement::Environment {
            temperature: -2.0,
            humidity: 55.3,
            co2: None
        })
    );
    // A press of bed 2's call button is one SOS from the bed's own id.
    peer.command("set 3 discrete 1 true").unwrap();
    until(&mut rx, |e| {
        reading_of(e, "bed-101b", |m| {
            *m == Measurement::Button {
                button: ButtonKind::Sos,
            }
        })
    })
    .await;
    // Silence the smoke detector's sounder: coil 0 is written on the device.
    commands
        .send(DeviceId::new("smoke-2f"), "silence")
        .await
        .unwrap();
    assert_eq!(peer.command("get 2 coil 0").unwrap()["value"], json!(true));
    let unknown = commands.send(DeviceId::new("smoke-2f"), "explode").await;
    assert!(unknown.is_err());
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_that_disappears_goes_offline_and_its_return_resolves_it() {
    let mut peer = ModbusPeer::tcp(json!({"1": example_unit(&builtin("water_leak"))})).unwrap();
    let config = format!(
        r#"
transport = "tcp"
host = "{}"
timeout = "200ms"
retries = 0
offline_after = 2
max_backoff = "400ms"
[[devices]]
device = "leak-1"
unit = 1
profile = "water_leak"
poll_interval = "100ms"
"#,
        peer.address()
    );
    let (mut rx, stop, _, _) = start_driver(&config);
    until(&mut rx, |e| health_of(e, "leak-1", HealthState::Online)).await;
    peer.command("down").unwrap();
    let seen = until(&mut rx, |e| health_of(e, "leak-1", HealthState::Offline)).await;
    let DriverEvent::Health { detail, .. } = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(detail.contains("2 failed polls"), "{detail}");
    peer.command("up").unwrap();
    until(&mut rx, |e| health_of(e, "leak-1", HealthState::Online)).await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_overrun_by_a_silent_device_are_skipped_and_counted() {
    let mut peer = ModbusPeer::tcp(json!({"1": example_unit(&builtin("room_th"))})).unwrap();
    peer.command("mode 1 silent").unwrap();
    // Each poll waits 300 ms for an answer that never comes, three periods of 100 ms: the grid
    // skips the slots that passed instead of polling back to back to catch up.
    let config = format!(
        "transport = \"tcp\"\nhost = \"{}\"\ntimeout = \"300ms\"\nretries = 0\noffline_after = 4\n\
         [[devices]]\ndevice = \"th-s\"\nunit = 1\nprofile = \"room_th\"\npoll_interval = \"100ms\"\n",
        peer.address()
    );
    let (mut rx, stop, _, counters) = start_driver(&config);
    until(&mut rx, |e| health_of(e, "th-s", HealthState::Offline)).await;
    let c = &counters[&DeviceId::new("th-s")];
    let polls = c.polls.load(std::sync::atomic::Ordering::Relaxed);
    let missed = c.missed_polls.load(std::sync::atomic::Ordering::Relaxed);
    assert!(polls >= 4, "{polls} polls");
    // Every poll but the last before offline overran at least two whole slots.
    assert!(missed >= 2 * (4 - 1), "{missed} missed in {polls} polls");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exception_responses_degrade_the_device_and_are_counted_with_their_code() {
    let mut peer = ModbusPeer::tcp(json!({"1": example_unit(&builtin("gas_detector"))})).unwrap();
    peer.command("exception 1 2").unwrap();
    let config = format!(
        "transport = \"tcp\"\nhost = \"{}\"\n[[devices]]\ndevice = \"gas-k\"\nunit = 1\nprofile = \"gas_detector\"\npoll_interval = \"100ms\"\n",
        peer.address()
    );
    let (mut rx, stop, _, counters) = start_driver(&config);
    let seen = until(&mut rx, |e| health_of(e, "gas-k", HealthState::Degraded)).await;
    let DriverEvent::Health { detail, .. } = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(detail.contains("exception 0x02"), "{detail}");
    let c = &counters[&DeviceId::new("gas-k")];
    assert!(c.exceptions.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert_eq!(
        c.last_exception.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    peer.command("exception 1 0").unwrap();
    until(&mut rx, |e| health_of(e, "gas-k", HealthState::Online)).await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_silent_devices_do_not_delay_a_healthy_neighbour() {
    let th = example_unit(&builtin("room_th"));
    let mut peer = ModbusPeer::tcp(json!({"1": th, "2": th, "3": th})).unwrap();
    peer.command("mode 1 garbage").unwrap();
    peer.command("mode 2 silent").unwrap();
    let config = format!(
        r#"
transport = "tcp"
host = "{}"
timeout = "300ms"
retries = 1
offline_after = 3
[[devices]]
device = "garbage"
unit = 1
profile = "room_th"
poll_interval = "50ms"
[[devices]]
device = "silent"
unit = 2
profile = "room_th"
poll_interval = "50ms"
[[devices]]
device = "healthy"
unit = 3
profile = "room_th"
poll_interval = "50ms"
"#,
        peer.address()
    );
    let (mut rx, stop, _, counters) = start_driver(&config);
    let mut offline = std::collections::HashSet::new();
    let seen = until(&mut rx, |e| {
        if let DriverEvent::Health {
            device,
            state: HealthState::Offline,
            ..
        } = e
        {
            offline.insert(device.to_string());
        }
        offline.contains("garbage") && offline.contains("silent")
    })
    .await;
    // The silent device alone needs 3 polls × 2 attempts × 300 ms of timeouts to be declared
    // offline; had the healthy device waited behind it, it could have been read at most 6 times.
    let healthy = seen
        .iter()
        .filter(|e| reading_of(e, "healthy", |_| true))
        .count();
    assert!(healthy >= 12, "healthy device read only {healthy} times");
    assert!(
        !seen
            .iter()
            .any(|e| health_of(e, "healthy", HealthState::Offline))
    );
    let g = &counters[&DeviceId::new("garbage")];
    let offline_detail = seen.iter().find_map(|e| match e {
        DriverEvent::Health { device, detail, .. } if device.as_str() == "garbage" => Some(detail),
        _ => None,
    });
    assert!(
        g.garbage.load(std::sync::atomic::Ordering::Relaxed) >= 1,
        "{g:?} {offline_detail:?}"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtu_bus_over_socat_reads_its_units_while_a_silent_or_garbage_unit_goes_offline() {
    let pty = PtyPair::start().unwrap();
    let units = json!({
        "1": example_unit(&builtin("room_th")),
        "2": example_unit(&builtin("bed_mat_vitals")),
    });
    let mut peer = ModbusPeer::rtu(units, &pty.device_end).unwrap();
    // probe over RTU, as an installer would
    let target = ProbeTarget::Rtu {
        path: pty.gateway_end.clone(),
        baud: 19_200,
        parity: pingan_drivers::modbus::Parity::None,
        stop_bits: 1,
    };
    let bed = builtin("bed_mat_vitals");
    let values = probe(&target, 2, &bed, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(values.to_json(&bed)["heart_rate"], json!(62.0));
    let config = format!(
        r#"
transport = "rtu"
path = "{}"
baud = 19200
timeout = "300ms"
retries = 0
offline_after = 2
[[devices]]
device = "room-201"
unit = 1
profile = "room_th"
poll_interval = "100ms"
[[devices]]
device = "bed-201a"
unit = 2
profile = "bed_mat_vitals"
poll_interval = "100ms"
"#,
        pty.gateway_end.display()
    );
    let (mut rx, stop, _, _) = start_driver(&config);
    let mut got_env = false;
    let mut got_bed = false;
    until(&mut rx, |e| {
        got_env |= reading_of(e, "room-201", |m| {
            matches!(m, Measurement::Environment { .. })
        });
        got_bed |= reading_of(e, "bed-201a", |m| {
            *m == Measurement::BedOccupancy {
                in_bed: true,
                heart_rate: Some(62.0),
                respiration_rate: Some(15.0),
            }
        });
        got_env && got_bed
    })
    .await;
    peer.command("mode 2 silent").unwrap();
    until(&mut rx, |e| health_of(e, "bed-201a", HealthState::Offline)).await;
    // The room sensor on the same bus keeps being read.
    until(&mut rx, |e| reading_of(e, "room-201", |_| true)).await;
    peer.command("mode 2 normal").unwrap();
    until(&mut rx, |e| health_of(e, "bed-201a", HealthState::Online)).await;
    // A unit that answers with garbage (bad CRC) goes offline; its neighbour keeps being read.
    peer.command("mode 1 garbage").unwrap();
    until(&mut rx, |e| health_of(e, "room-201", HealthState::Offline)).await;
    until(&mut rx, |e| reading_of(e, "bed-201a", |_| true)).await;
    peer.command("mode 1 normal").unwrap();
    until(&mut rx, |e| health_of(e, "room-201", HealthState::Online)).await;
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_connection_polls_every_device_of_a_tcp_gateway_over_one_connection() {
    let mut peer = ModbusPeer::tcp(json!({
        "1": example_unit(&builtin("room_th")),
        "2": example_unit(&builtin("water_leak")),
    }))
    .unwrap();
    let config = format!(
        "transport = \"tcp\"\nhost = \"{}\"\nshared_connection = true\n\
         [[devices]]\ndevice = \"room-3\"\nunit = 1\nprofile = \"room_th\"\npoll_interval = \"50ms\"\n\
         [[devices]]\ndevice = \"leak-3\"\nunit = 2\nprofile = \"water_leak\"\npoll_interval = \"50ms\"\n",
        peer.address()
    );
    let (mut rx, stop, _, _) = start_driver(&config);
    let (mut room, mut leak) = (0, 0);
    until(&mut rx, |e| {
        room += usize::from(reading_of(e, "room-3", |_| true));
        leak += usize::from(reading_of(e, "leak-3", |m| {
            *m == Measurement::WaterLeak { wet: true }
        }));
        room >= 3 && leak >= 1
    })
    .await;
    assert_eq!(peer.command("count").unwrap()["connections"], json!(1));
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplugged_serial_adapter_reports_its_devices_offline() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("ttyUSB9");
    let config = format!(
        "transport = \"rtu\"\npath = \"{}\"\nbaud = 9600\noffline_after = 2\n\
         [[devices]]\ndevice = \"smoke-3f\"\nunit = 5\nprofile = \"smoke_detector\"\npoll_interval = \"50ms\"\n",
        missing.display()
    );
    let (mut rx, stop, _, _) = start_driver(&config);
    let seen = until(&mut rx, |e| health_of(e, "smoke-3f", HealthState::Offline)).await;
    let DriverEvent::Health { detail, .. } = seen.last().unwrap() else {
        unreachable!()
    };
    assert!(detail.contains("ttyUSB9"), "{detail}");
    stop.cancel();
}

// A person silences a smoke detector's local sounder over MQTT: the command reaches the device
// as a Modbus write through the running gateway, and the result is published.
#[path = "modbus/gateway_command.rs"]
mod gateway_command;

#[path = "modbus/probe_cmd.rs"]
mod probe_cmd;
