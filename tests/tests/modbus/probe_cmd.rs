//! `pingan modbus probe`, as a library call and as the binary, against pymodbus.

use super::*;

fn probe_args(tcp: String, unit: u8, profile: &str) -> ProbeArgs {
    ProbeArgs {
        tcp: Some(tcp),
        rtu: None,
        baud: None,
        parity: ParityArg::None,
        stop_bits: 1,
        unit,
        profile: profile.to_owned(),
        timeout: Duration::from_millis(300),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_command_prints_json_or_fails_with_exit_2() {
    let mut peer = ModbusPeer::tcp(json!({
        "1": example_unit(&builtin("co2_sensor")),
        "2": example_unit(&builtin("co2_sensor")),
    }))
    .unwrap();
    peer.command("exception 2 4").unwrap();
    let ok = pingan_gateway::cli::modbus::probe_json(&probe_args(peer.address(), 1, "co2_sensor"))
        .await
        .unwrap();
    assert_eq!(
        ok,
        json!({"humidity": 61.2, "temperature": 26.8, "co2": 1450.0})
    );
    let run = |a: ProbeArgs| {
        pingan_gateway::cli::modbus::run(ModbusArgs {
            command: ModbusCommand::Probe(a),
        })
    };
    assert_eq!(
        run(probe_args(peer.address(), 1, "co2_sensor")).await,
        ExitCode::SUCCESS
    );
    // exception
    let e = pingan_gateway::cli::modbus::probe_json(&probe_args(peer.address(), 2, "co2_sensor"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("exception 0x04"), "{e}");
    assert_eq!(
        run(probe_args(peer.address(), 2, "co2_sensor")).await,
        ExitCode::from(2)
    );
    // timeout: unit 9 does not exist on this line
    let e = pingan_gateway::cli::modbus::probe_json(&probe_args(peer.address(), 9, "co2_sensor"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProbeCliError::Probe(ProbeError::NoAnswer { .. })),
        "{e}"
    );
    assert_eq!(
        run(probe_args(peer.address(), 9, "co2_sensor")).await,
        ExitCode::from(2)
    );
    // profile error, from a file
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"bad\"\n[[points]]\nname = \"x\"\ntable = \"holding\"\naddress = 0\ntype = \"u64\"\n").unwrap();
    let e = pingan_gateway::cli::modbus::probe_json(&probe_args(
        peer.address(),
        1,
        bad.to_str().unwrap(),
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("bad.toml:6:8: points[0].type"),
        "{e}"
    );
    assert_eq!(
        run(probe_args(peer.address(), 1, bad.to_str().unwrap())).await,
        ExitCode::from(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pingan_binary_probes_by_profile_and_check_config_locates_profile_errors() {
    let peer = ModbusPeer::tcp(json!({"1": example_unit(&builtin("room_th"))})).unwrap();
    let addr = peer.address();
    let probe = |unit: &str, profile: &str| {
        pingan_tests::pingan_output(&[
            "modbus",
            "probe",
            "--tcp",
            &addr,
            "--unit",
            unit,
            "--profile",
            profile,
            "--timeout",
            "300ms",
        ])
    };
    let (code, out, err) = probe("1", "room_th");
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        json,
        json!({"temperature": -2.0, "humidity": 55.3, "unit_id": 1.0})
    );
    let (code, out, err) = probe("7", "room_th");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("no answer from unit 7"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("my_sensor.toml");
    std::fs::write(
        &profile,
        "name = \"my_sensor\"\n[[points]]\nname = \"a\"\ntable = \"holding\"\naddress = 0\ntype = \"f32\"\n\
         [[points]]\nname = \"b\"\ntable = \"holding\"\naddress = 1\ntype = \"u16\"\n",
    )
    .unwrap();
    let site = dir.path().join("site.toml");
    std::fs::write(
        &site,
        format!(
            "[site]\nid = \"home\"\nname = \"H\"\n\n[[drivers]]\nid = \"bus-1\"\ndriver = \"modbus\"\n\
             transport = \"tcp\"\nhost = \"{addr}\"\n[[drivers.devices]]\ndevice = \"s1\"\nunit = 1\n\
             profile = \"my_sensor.toml\"\n\n[[floors]]\nid = \"1F\"\n[[rooms]]\nid = \"1\"\nfloor = \"1F\"\n\
             [[devices]]\nid = \"s1\"\nmodel = \"room_sensor\"\ndriver = \"bus-1\"\nroom = \"1\"\n"
        ),
    )
    .unwrap();
    let (code, _, err) = pingan_tests::pingan_output(&["check-config", site.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:10:11: points[1].address: point `b` overlaps point `a` at holding address 1",
            profile.display()
        )),
        "{err}"
    );
    let (code, _, err) = probe("1", profile.to_str().unwrap());
    assert_eq!(code, 2);
    assert!(err.contains("my_sensor.toml:10:11"), "{err}");
}
