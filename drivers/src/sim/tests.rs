use super::*;
use crate::driver::DriverEvent;

fn facility() -> Vec<SimDevice> {
    let mut v = Vec::new();
    for r in 0..3 {
        let subject = format!("r{r}");
        v.push(SimDevice {
            id: DeviceId::new(format!("w{r}")),
            model: SimModel::Wristband,
            subject: subject.clone(),
        });
        v.push(SimDevice {
            id: DeviceId::new(format!("b{r}")),
            model: SimModel::BedMat,
            subject,
        });
    }
    v.push(SimDevice {
        id: "room".into(),
        model: SimModel::RoomSensor,
        subject: "room".into(),
    });
    v.push(SimDevice {
        id: "smk".into(),
        model: SimModel::SmokeDetector,
        subject: "room".into(),
    });
    v
}

async fn collect(scenario: Scenario, secs: u64) -> Vec<Reading> {
    let (sink, mut rx) = ReadingSink::channel(1_000_000);
    let shutdown = CancellationToken::new();
    let driver = SimDriver::new(SimConfig::default(), facility(), scenario);
    let task = tokio::spawn(driver.run(sink, shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(secs)).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let DriverEvent::Reading(r) = ev {
            out.push(r);
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn wristbands_stream_vitals_at_1hz_and_motion_at_50hz() {
    let readings = collect(Scenario::default(), 60).await;
    let hr = readings
        .iter()
        .filter(|r| {
            r.device.as_str() == "w0" && matches!(r.measurement, Measurement::HeartRate { .. })
        })
        .count();
    assert!((59..=61).contains(&hr), "{hr} heart-rate readings in 60 s");
    let samples: usize = readings
        .iter()
        .filter(|r| r.device.as_str() == "w0")
        .filter_map(|r| match &r.measurement {
            Measurement::Motion { samples, hz } => {
                assert_eq!(*hz, MOTION_HZ);
                Some(samples.len())
            }
            _ => None,
        })
        .sum();
    assert!(
        (2950..=3050).contains(&samples),
        "{samples} motion samples in 60 s"
    );
    for r in &readings {
        if let Measurement::HeartRate { bpm } = r.measurement {
            assert!((35.0..160.0).contains(&bpm), "{bpm}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn scripted_sos_and_smoke_arrive_at_their_time() {
    let scenario = Scenario::parse(
        "[[incident]]\nat = \"3s\"\nkind = \"sos\"\ndevice = \"w1\"\n[[incident]]\nat = \"5s\"\nkind = \"smoke\"\ndevice = \"smk\"\n",
        "t",
    )
    .unwrap();
    let readings = collect(scenario, 10).await;
    let t0 = readings[0].at;
    let sos = readings
        .iter()
        .find(|r| {
            matches!(
                r.measurement,
                Measurement::Button {
                    button: ButtonKind::Sos
                }
            )
        })
        .unwrap();
    assert_eq!(sos.device.as_str(), "w1");
    let offset = sos.at.since(t0).as_millis();
    assert!((3000..=3500).contains(&offset), "{offset}");
    assert!(
        readings
            .iter()
            .any(|r| r.device.as_str() == "smk"
                && r.measurement == Measurement::Smoke { alarm: true })
    );
}

#[tokio::test(start_paused = true)]
async fn silent_device_stops_reporting() {
    let scenario = Scenario::parse(
        "[[incident]]\nat = \"2s\"\nkind = \"device_silent\"\ndevice = \"w2\"\n",
        "t",
    )
    .unwrap();
    let readings = collect(scenario, 10).await;
    let t0 = readings[0].at;
    let last = readings
        .iter()
        .filter(|r| r.device.as_str() == "w2")
        .map(|r| r.at)
        .max()
        .unwrap();
    assert!(last.since(t0) <= Duration::from_millis(2000));
}

#[tokio::test(start_paused = true)]
async fn scenario_naming_an_unknown_device_is_a_config_error() {
    let scenario = Scenario::parse(
        "[[incident]]\nat = \"2s\"\nkind = \"sos\"\ndevice = \"nobody\"\n",
        "t",
    )
    .unwrap();
    let (sink, _rx) = ReadingSink::channel(10);
    let err = SimDriver::new(SimConfig::default(), facility(), scenario)
        .run(sink, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, DriverError::Config(m) if m.contains("nobody")));
}
