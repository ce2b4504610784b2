//! The results of a sitting: one record per gateway and poll interval, and the Markdown table
//! with ratios to Pingan that goes into docs/BENCHMARKS.md. Pure.

use std::fmt::Write as _;

use serde::Serialize;

/// One measured window of one gateway.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Run {
    /// The gateway's report label.
    pub(crate) gateway: &'static str,
    /// Poll interval in ms.
    pub(crate) poll_ms: u64,
    /// Length of the measured window in s.
    pub(crate) seconds: f64,
    /// Values received per second.
    pub(crate) values_per_s: f64,
    /// Values per second the configured poll rate asks for.
    pub(crate) configured_per_s: f64,
    /// CPU seconds of the gateway's process tree per 1000 values received.
    pub(crate) cpu_s_per_1000: f64,
    /// CPU use of the process tree, % of one core.
    pub(crate) cpu_percent: f64,
    /// Largest resident memory of the process tree during the window, MB.
    pub(crate) rss_mb: f64,
    /// Change → receipt, median, ms.
    pub(crate) p50_ms: f64,
    /// Change → receipt, 99th percentile, ms.
    pub(crate) p99_ms: f64,
    /// Telemetry messages received per second.
    pub(crate) messages_per_s: f64,
    /// Values that did not match the simulator (should be 0).
    pub(crate) unknown: u64,
}

/// The `q`-quantile (0..=1) of `v` (sorted in place); NaN when empty.
pub(crate) fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

/// `peer / pingan` as "×N.N", or "–" when either is missing.
fn ratio(peer: f64, pingan: Option<f64>) -> String {
    match pingan {
        Some(p) if p > 0.0 && peer.is_finite() => format!("×{:.1}", peer / p),
        _ => "–".to_owned(),
    }
}

/// The Markdown table: per gateway and poll interval the throughput, CPU, memory and latency,
/// with each peer's CPU per value and RSS as a multiple of Pingan's, and the idle CPU at the
/// idle poll interval.
pub(crate) fn table(runs: &[Run], idle: &[Run]) -> String {
    let mut polls: Vec<u64> = runs.iter().map(|r| r.poll_ms).collect();
    polls.sort_unstable_by(|a, b| b.cmp(a));
    polls.dedup();
    let mut gateways: Vec<&str> = Vec::new();
    for r in runs.iter().chain(idle) {
        if !gateways.contains(&r.gateway) {
            gateways.push(r.gateway);
        }
    }
    let mut t = String::from(
        "| gateway | poll | values/s (of configured) | CPU s per 1000 values | ÷ Pingan | CPU % | RSS MB | ÷ Pingan | p50 / p99 change→receipt | idle CPU % |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for gw in &gateways {
        let idle_cpu = idle
            .iter()
            .find(|r| r.gateway == *gw)
            .map_or("–".to_owned(), |r| {
                format!("{:.2} ({} s poll)", r.cpu_percent, r.poll_ms / 1000)
            });
        let mut first = true;
        for poll in &polls {
            let Some(r) = runs.iter().find(|r| r.gateway == *gw && r.poll_ms == *poll) else {
                continue;
            };
            let pingan = runs
                .iter()
                .find(|p| p.gateway == "Pingan" && p.poll_ms == *poll);
            let (cpu_ratio, rss_ratio) = if *gw == "Pingan" {
                ("1".to_owned(), "1".to_owned())
            } else {
                (
                    ratio(r.cpu_s_per_1000, pingan.map(|p| p.cpu_s_per_1000)),
                    ratio(r.rss_mb, pingan.map(|p| p.rss_mb)),
                )
            };
            let _ = writeln!(
                t,
                "| {gw} | {poll} ms | {:.0} ({:.2} %) | {:.4} | {cpu_ratio} | {:.1} | {:.1} | {rss_ratio} | {:.0} / {:.0} ms | {} |",
                r.values_per_s,
                100.0 * r.values_per_s / r.configured_per_s,
                r.cpu_s_per_1000,
                r.cpu_percent,
                r.rss_mb,
                r.p50_ms,
                r.p99_ms,
                if first { idle_cpu.as_str() } else { "" },
            );
            first = false;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(gateway: &'static str, poll_ms: u64, cpu: f64, rss: f64) -> Run {
        Run {
            gateway,
            poll_ms,
            seconds: 60.0,
            values_per_s: 5000.0,
            configured_per_s: 5000.0,
            cpu_s_per_1000: cpu,
            cpu_percent: cpu * 500.0,
            rss_mb: rss,
            p50_ms: 50.0,
            p99_ms: 101.0,
            messages_per_s: 10.0,
            unknown: 0,
        }
    }

    #[test]
    fn peers_are_shown_as_multiples_of_pingan_per_poll_interval() {
        let runs = [
            run("Pingan", 100, 0.001, 20.0),
            run("Node-RED", 100, 0.012, 150.0),
            run("Node-RED", 1000, 0.02, 150.0),
        ];
        let idle = [run("Pingan", 10_000, 0.0, 20.0)];
        let t = table(&runs, &idle);
        assert!(t.contains("| Node-RED | 100 ms |"), "{t}");
        assert!(t.contains("×12.0 |"), "{t}");
        assert!(t.contains("×7.5 |"), "{t}");
        // No Pingan run at 1 s: no ratio rather than a made-up one.
        let line = t
            .lines()
            .find(|l| l.contains("| Node-RED | 1000 ms"))
            .unwrap();
        assert!(line.contains("| – |"), "{line}");
        assert!(t.contains("0.00 (10 s poll)"), "{t}");
    }

    #[test]
    fn quantiles_pick_ranked_values() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&mut v, 0.5), 51.0);
        assert_eq!(quantile(&mut v, 0.99), 99.0);
        assert!(quantile(&mut [], 0.5).is_nan());
    }
}
