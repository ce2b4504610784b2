use super::*;
use crate::alert::Actor;
use crate::service::device_limit::SENDER_BURST;

fn req(by: &str, device: &str) -> DeviceRequest {
    DeviceRequest {
        cmd: DeviceCommand {
            device: pingan_drivers::DeviceId::new(device),
            command: "silence".into(),
            by: Actor::named(by),
        },
        note: None,
        via: Via::Mqtt,
        link: Some(LinkId::local()),
        reply: None,
    }
}

#[tokio::test]
async fn commands_for_unknown_devices_are_answered_but_never_stored() {
    let store = Store::temporary().unwrap();
    let outbox = store.outbox(&LinkId::local()).unwrap();
    let (tx, mut answers) = mpsc::channel(64);
    let b = DeviceTask::builder();
    let input = b.input();
    let task = b.build(DeviceTaskParts {
        commands: DeviceCommands::default(),
        results: Some(outbox.clone()),
        answers: Some(Answers {
            tx,
            stats: Arc::new(LinkStats::default()),
        }),
        store: store.clone(),
        topics: Topics::new("t"),
        live: Arc::new(Live::default()),
        clock: crate::clock::SystemClock::shared(),
    });
    let run = tokio::spawn(task.run());
    for i in 0..(SENDER_BURST + 1) {
        input
            .send(req("mallory", &format!("ghost-{i}")))
            .await
            .unwrap();
    }
    drop(input);
    run.await.unwrap();
    let mut got = Vec::new();
    while let Ok(msg) = answers.try_recv() {
        let TelemetryMsg::Item(t) = msg else {
            panic!("a refusal is a single message")
        };
        let v: serde_json::Value = serde_json::from_slice(&t.body).unwrap();
        assert_eq!(v["ok"], false);
        let error = v["error"].as_str().unwrap_or_default().to_owned();
        got.push((t.topic.to_string(), error));
    }
    assert_eq!(got.len() as u32, SENDER_BURST + 1);
    assert_eq!(got[0].0, "pingan/t/devices/ghost-0/commands/silence");
    assert!(got[0].1.contains("no driver takes commands"), "{got:?}");
    assert!(got.last().unwrap().1.contains("too many"), "{got:?}");
    assert!(outbox.is_empty(), "refusals are not persisted");
    let recorded = store.actions(None, 100).unwrap();
    assert!(
        recorded.is_empty(),
        "refusals are not recorded: {recorded:?}"
    );
}
