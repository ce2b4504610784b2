//! Replays recordings through the deployed offline path (`analyze_recording`: gaps, resampling,
//! padding, windows, the model, confirmation) for the training's evaluation
//! (models/training/evaluate.py), with a model file and several confirmation configurations in
//! one pass (the scores are computed once, each configuration confirms them).
//!
//! `fall_replay MODEL.json CONFIGS.json RECORDINGS.bin > ALARMS.txt`
//! - MODEL.json: the trees model.py exports beside the ONNX graph (`pingan-fall-trees/1`)
//! - CONFIGS.json: `{"wrist": [ConfirmerConfig, …], "waist": [ConfirmerConfig, …]}`
//! - RECORDINGS.bin, little-endian, repeated: u32 id, u8 placement (0 wrist, 1 waist), u32 n,
//!   n × f64 time (s), n × 3 × f32 acceleration (g)
//! - stdout: one line per confirmed fall, `id config t score aftermath`, then `done <recordings>`;
//!   with `FALL_REPLAY_FEATURES=1` in the environment each line goes on with the candidate's
//!   second-stage features (`pingan_models::fall::aftermath::FEATURE_NAMES`, in order), the
//!   training data of the second stage (models/training/second_stage.py)
//!
//! `fall_replay --defaults` prints the built-in configurations in the same JSON shape.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};

use pingan_models::fall::{ConfirmerConfig, FallDetector, Placement, analyze_recording};

fn take<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], String> {
    let end = *pos + N;
    let bytes = buf
        .get(*pos..end)
        .ok_or_else(|| format!("recordings file truncated at byte {pos}"))?;
    *pos = end;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--defaults") {
        let defaults: HashMap<&str, Vec<ConfirmerConfig>> = [
            (
                "wrist",
                vec![ConfirmerConfig::for_placement(Placement::Wrist)],
            ),
            (
                "waist",
                vec![ConfirmerConfig::for_placement(Placement::Waist)],
            ),
        ]
        .into();
        println!("{}", serde_json::to_string(&defaults)?);
        return Ok(());
    }
    let [_, model, configs, recordings] = &args[..] else {
        return Err("usage: fall_replay MODEL.json CONFIGS.json RECORDINGS.bin".into());
    };
    let cfgs: HashMap<String, Vec<ConfirmerConfig>> =
        serde_json::from_str(&std::fs::read_to_string(configs)?)?;
    let mut detector = FallDetector::from_json(&std::fs::read_to_string(model)?)?;
    let mut buf = Vec::new();
    std::fs::File::open(recordings)?.read_to_end(&mut buf)?;
    let with_features = std::env::var("FALL_REPLAY_FEATURES").is_ok_and(|v| v == "1");
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut pos, mut count) = (0usize, 0usize);
    while pos < buf.len() {
        let id = u32::from_le_bytes(take(&buf, &mut pos)?);
        let placement = match take::<1>(&buf, &mut pos)?[0] {
            0 => Placement::Wrist,
            _ => Placement::Waist,
        };
        let n = u32::from_le_bytes(take(&buf, &mut pos)?) as usize;
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            t.push(f64::from_le_bytes(take(&buf, &mut pos)?));
        }
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let mut s = [0.0f32; 3];
            for v in &mut s {
                *v = f32::from_le_bytes(take(&buf, &mut pos)?);
            }
            samples.push(s);
        }
        let key = match placement {
            Placement::Wrist => "wrist",
            Placement::Waist => "waist",
        };
        let list = cfgs.get(key).map_or(&[][..], Vec::as_slice);
        let analysis = analyze_recording(&mut detector, &t, &samples, placement, list)?;
        for (k, falls) in analysis.falls.iter().enumerate() {
            for f in falls {
                let aftermath = serde_json::to_string(&f.aftermath)?;
                write!(
                    out,
                    "{id} {k} {:.3} {:.5} {}",
                    f.t,
                    f.score,
                    aftermath.trim_matches('"')
                )?;
                if with_features {
                    for v in f.features {
                        write!(out, " {v:.6}")?;
                    }
                }
                writeln!(out)?;
            }
        }
        count += 1;
    }
    writeln!(out, "done {count}")?;
    Ok(())
}
