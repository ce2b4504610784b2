//! `pingan report --from --to [--csv | --json]`: the response report (docs/ALERTS.md, "Response
//! report") as a table, CSV or JSON.
//!
//! With the gateway stopped the store is read directly (settings from `--config`, else the ones
//! the gateway last ran with, recorded in the store). With the gateway running the database is
//! locked, so the report is asked of the running gateway's REST API with the tool token it
//! leaves in its data directory (`cli::local_api`); the gateway then reads the times in its own
//! time zone and computes with its own settings.

use std::path::Path;
use std::process::ExitCode;

use pingan_drivers::Timestamp;

use super::alerts::{Location, data_dir};
use super::local_api::{self, encode};
use crate::alert::Locale;
use crate::config::Config;
use crate::report::csv::{priority_label, render, shift_label};
use crate::report::period::{check_span, parse_time};
use crate::report::{ReportSetup, ResponseReport, Spread, Stats, response};
use crate::service::REPORT_SETUP;
use crate::store::{Store, StoreError};

/// Arguments of `pingan report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Alerts raised from: a date (2026-11-01 = local midnight), a local time
    /// (2026-11-01T07:00), RFC 3339 (2026-11-01T07:00:00+08:00) or Unix milliseconds.
    #[arg(long)]
    pub from: String,
    /// Up to (exclusive); a date alone includes that whole day.
    #[arg(long)]
    pub to: String,
    /// CSV (RFC 4180) instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// The report as JSON (the REST API's `/api/v1/report`).
    #[arg(long)]
    pub json: bool,
    /// Language of labels: zh-CN or en (default: the site's).
    #[arg(long)]
    pub lang: Option<String>,
    #[command(flatten)]
    pub at: Location,
}

/// Runs `pingan report`.
pub async fn run(args: ReportArgs) -> ExitCode {
    match execute(&args).await {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("pingan report: {msg}");
            ExitCode::from(2)
        }
    }
}

async fn execute(args: &ReportArgs) -> Result<String, String> {
    let lang = match args.lang.as_deref() {
        None => None,
        Some("zh-CN") => Some(Locale::ZhCn),
        Some("en") => Some(Locale::En),
        Some(other) => return Err(format!("--lang must be zh-CN or en, not {other:?}")),
    };
    let dir = data_dir(&args.at)?;
    // Opening a store creates one: a mistyped directory must not give a report of nothing.
    if !dir.join("db").exists() {
        return Err(format!(
            "no gateway database in {} (give the gateway's --data-dir or --config)",
            dir.display()
        ));
    }
    let report = match Store::open(&dir) {
        Ok(store) => local(args, &store)?,
        Err(StoreError::Locked { .. }) => remote(args, &dir).await?,
        Err(e) => return Err(e.to_string()),
    };
    let locale = lang.unwrap_or(report.locale);
    Ok(if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"
    } else if args.csv {
        render(&report, locale)
    } else {
        table(&report, locale)
    })
}

/// With the gateway stopped: the store, with the settings of `--config` or of its last run.
fn local(args: &ReportArgs, store: &Store) -> Result<ResponseReport, String> {
    let setup = match &args.at.config {
        Some(c) => ReportSetup::from_config(&Config::load(c).map_err(|e| e.to_string())?),
        None => store
            .meta(REPORT_SETUP)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
    };
    let from = parse_time(&args.from, setup.tz(), false).map_err(|e| format!("--from: {e}"))?;
    let to = parse_time(&args.to, setup.tz(), true).map_err(|e| format!("--to: {e}"))?;
    check_span(from, to).map_err(|e| e.to_string())?;
    let trails = store.trails(from, to, false).map_err(|e| e.to_string())?;
    Ok(response::build(&setup, &trails, from, to, Timestamp::now()))
}

/// With the gateway running: its REST API.
async fn remote(args: &ReportArgs, dir: &Path) -> Result<ResponseReport, String> {
    let (addr, token) = local_api::access(dir)?;
    let path = format!(
        "/api/v1/report?from={}&to={}",
        encode(&args.from),
        encode(&args.to)
    );
    let answer = local_api::get(addr, &token, &path).await?;
    if answer.status != 200 {
        let msg = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
        return Err(format!(
            "the gateway refused the report ({}): {msg}",
            answer.status
        ));
    }
    serde_json::from_slice(&answer.body)
        .map_err(|e| format!("unreadable report from the gateway: {e}"))
}

/// Columns of the table: label (zh, en) and the figure.
type Column = (&'static str, &'static str, fn(&Stats) -> String);

fn spread(s: Option<Spread>, pick: fn(&Spread) -> i64) -> String {
    s.map_or_else(|| "—".to_owned(), |s| duration(pick(&s)))
}

/// `45s`, `3m05s`, `2h07m`.
fn duration(ms: i64) -> String {
    let s = (ms + 500) / 1000;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

const COLUMNS: [Column; 9] = [
    ("报警", "Alerts", |s| s.alerts.to_string()),
    ("已确认", "Acked", |s| s.acknowledged.to_string()),
    ("确认中位", "Ack p50", |s| {
        spread(s.time_to_acknowledge, |x| x.median_ms)
    }),
    ("确认P90", "Ack p90", |s| {
        spread(s.time_to_acknowledge, |x| x.p90_ms)
    }),
    ("确认最长", "Ack max", |s| {
        spread(s.time_to_acknowledge, |x| x.max_ms)
    }),
    ("处理中位", "Res p50", |s| {
        spread(s.time_to_resolve, |x| x.median_ms)
    }),
    ("未确认", "Never", |s| s.never_acknowledged.to_string()),
    ("升级", "Escal.", |s| s.escalations.to_string()),
    ("绿色通道", "Green", |s| s.green_channel.to_string()),
];

/// Display width: CJK characters take two columns in a terminal.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{2e80}'..='\u{ffef}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// The report as a plain-text table for a person at a terminal.
fn table(r: &ResponseReport, locale: Locale) -> String {
    let zh = locale == Locale::ZhCn;
    let time = |t: Timestamp| {
        chrono::DateTime::from_timestamp_millis(t.millis())
            .map(|d| {
                d.with_timezone(&r.timezone.0)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut rows: Vec<Vec<String>> = vec![
        [
            if zh { "班次" } else { "Shift" },
            if zh { "类型" } else { "Kind" },
            if zh { "优先级" } else { "Priority" },
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(
            COLUMNS
                .iter()
                .map(|c| (if zh { c.0 } else { c.1 }).to_owned()),
        )
        .collect(),
    ];
    let mut push = |labels: [String; 3], s: &Stats| {
        let mut row: Vec<String> = labels.into();
        row.extend(COLUMNS.iter().map(|c| (c.2)(s)));
        rows.push(row);
    };
    let all = if zh { "全部" } else { "All" }.to_owned();
    for row in &r.rows {
        push(
            [
                shift_label(r, &row.shift, locale),
                row.kind.label(locale).to_owned(),
                priority_label(row.priority, locale).to_owned(),
            ],
            &row.stats,
        );
    }
    for s in &r.by_shift {
        push(
            [shift_label(r, &s.shift, locale), all.clone(), all.clone()],
            &s.stats,
        );
    }
    push([all.clone(), all.clone(), all], &r.total);
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|row| width(&row[i])).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{} {} – {} ({}){}\n",
        if zh {
            "响应时间报告"
        } else {
            "Response report"
        },
        time(r.from),
        time(r.to),
        r.timezone.0.name(),
        if r.total.clock_anomalies > 0 {
            if zh {
                "；有时钟异常，见 --json"
            } else {
                "; clock anomalies, see --json"
            }
        } else {
            ""
        }
    );
    for row in rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(44_600), "45s");
        assert_eq!(duration(185_000), "3m05s");
        assert_eq!(duration(7_620_000), "2h07m");
        assert_eq!(
            encode("2026-11-01T07:00+08:00"),
            "2026-11-01T07%3A00%2B08%3A00"
        );
        assert_eq!(width("夜班 x"), 6);
    }
}
