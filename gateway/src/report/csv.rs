//! The response report as CSV (RFC 4180, `\r\n` line ends), one row per group: per shift, kind
//! and priority; per shift; per kind and priority over every shift; and the total. Column names
//! and the names of shifts, kinds and priorities are in the chosen language; times are seconds
//! with one decimal, empty when there is nothing to measure.

use super::response::{ResponseReport, Stats};
use crate::alert::{AlertKind, Locale, Priority};

const COLUMNS: [(&str, &str); 20] = [
    ("班次", "Shift"),
    ("报警类型", "Alert kind"),
    ("优先级", "Priority"),
    ("报警数", "Alerts"),
    ("已确认", "Acknowledged"),
    ("确认用时中位数（秒）", "Time to acknowledge, median (s)"),
    (
        "确认用时90百分位（秒）",
        "Time to acknowledge, 90th percentile (s)",
    ),
    ("确认用时最长（秒）", "Time to acknowledge, max (s)"),
    ("已处理", "Resolved"),
    ("处理用时中位数（秒）", "Time to resolve, median (s)"),
    (
        "处理用时90百分位（秒）",
        "Time to resolve, 90th percentile (s)",
    ),
    ("处理用时最长（秒）", "Time to resolve, max (s)"),
    ("始终未确认", "Never acknowledged"),
    ("长者取消", "Cancelled by resident"),
    ("自行解除", "Cleared by itself"),
    ("仍未处理", "Still open"),
    ("升级次数", "Escalations"),
    ("升级报警数", "Escalated alerts"),
    ("绿色通道转诊", "Green-channel referrals"),
    ("时钟异常", "Clock anomalies"),
];

/// A shift's name in `locale`: the built-in ids are translated, others use the config's `name`.
pub fn shift_label(report: &ResponseReport, id: &str, locale: Locale) -> String {
    let zh = locale == Locale::ZhCn;
    let builtin = match id {
        "day" => Some(if zh { "白班" } else { "Day" }),
        "evening" => Some(if zh { "中班" } else { "Evening" }),
        "night" => Some(if zh { "夜班" } else { "Night" }),
        "other" => Some(if zh { "其他" } else { "Other" }),
        _ => None,
    };
    let named = report
        .shifts
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.name.clone());
    named
        .or_else(|| builtin.map(str::to_owned))
        .unwrap_or_else(|| id.to_owned())
}

/// A priority's name in `locale`.
pub fn priority_label(p: Priority, locale: Locale) -> &'static str {
    match (p, locale) {
        (Priority::High, Locale::ZhCn) => "高",
        (Priority::Medium, Locale::ZhCn) => "中",
        (Priority::Low, Locale::ZhCn) => "低",
        (Priority::High, Locale::En) => "High",
        (Priority::Medium, Locale::En) => "Medium",
        (Priority::Low, Locale::En) => "Low",
    }
}

fn all(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn => "全部",
        Locale::En => "All",
    }
}

fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Milliseconds as seconds with one decimal, rounded half up (durations are never negative).
fn seconds(ms: Option<i64>) -> String {
    ms.map(|ms| {
        let tenths = (ms.max(0) + 50) / 100;
        format!("{}.{}", tenths / 10, tenths % 10)
    })
    .unwrap_or_default()
}

fn line(out: &mut String, labels: [&str; 3], s: &Stats) {
    let ack = s.time_to_acknowledge;
    let res = s.time_to_resolve;
    let numbers = [
        s.alerts.to_string(),
        s.acknowledged.to_string(),
        seconds(ack.map(|a| a.median_ms)),
        seconds(ack.map(|a| a.p90_ms)),
        seconds(ack.map(|a| a.max_ms)),
        s.resolved.to_string(),
        seconds(res.map(|a| a.median_ms)),
        seconds(res.map(|a| a.p90_ms)),
        seconds(res.map(|a| a.max_ms)),
        s.never_acknowledged.to_string(),
        s.cancelled.to_string(),
        s.cleared.to_string(),
        s.open.to_string(),
        s.escalations.to_string(),
        s.escalated.to_string(),
        s.green_channel.to_string(),
        s.clock_anomalies.to_string(),
    ];
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, l);
    }
    for n in numbers {
        out.push(',');
        out.push_str(&n);
    }
    out.push_str("\r\n");
}

/// The report as CSV in `locale`.
pub fn render(report: &ResponseReport, locale: Locale) -> String {
    let mut out = String::new();
    for (i, (zh, en)) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, if locale == Locale::ZhCn { zh } else { en });
    }
    out.push_str("\r\n");
    let kind = |k: AlertKind| k.label(locale);
    for r in &report.rows {
        let shift = shift_label(report, &r.shift, locale);
        line(
            &mut out,
            [&shift, kind(r.kind), priority_label(r.priority, locale)],
            &r.stats,
        );
    }
    for r in &report.by_shift {
        let shift = shift_label(report, &r.shift, locale);
        line(&mut out, [&shift, all(locale), all(locale)], &r.stats);
    }
    for r in &report.by_kind {
        line(
            &mut out,
            [
                all(locale),
                kind(r.kind),
                priority_label(r.priority, locale),
            ],
            &r.stats,
        );
    }
    line(
        &mut out,
        [all(locale), all(locale), all(locale)],
        &report.total,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::response::ShiftView;
    use crate::report::{ReportSetup, response};

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        let mut s = String::new();
        field(&mut s, "a,b \"c\"");
        assert_eq!(s, "\"a,b \"\"c\"\"\"");
        assert_eq!(seconds(Some(61_250)), "61.3");
        assert_eq!(seconds(None), "");
    }

    #[test]
    fn an_empty_report_has_a_header_every_shift_and_the_total() {
        let setup = ReportSetup::default();
        let r = response::build(
            &setup,
            &[],
            pingan_drivers::Timestamp(0),
            pingan_drivers::Timestamp(86_400_000),
            pingan_drivers::Timestamp(86_400_000),
        );
        let zh = render(&r, Locale::ZhCn);
        let lines: Vec<&str> = zh.split("\r\n").collect();
        assert!(lines[0].starts_with("班次,报警类型,优先级,报警数"));
        assert!(lines[1].starts_with("白班,全部,全部,0,0,,,,0"));
        assert!(lines[4].starts_with("全部,全部,全部,0"));
        let en = render(&r, Locale::En);
        assert!(en.starts_with("Shift,Alert kind,Priority,Alerts,Acknowledged,"));
        assert!(!en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
        let mut named = r.clone();
        named.shifts.push(ShiftView {
            id: "x".into(),
            name: Some("Früh, lang".into()),
            start: crate::config::window::ClockTime::MIDNIGHT,
            end: crate::config::window::ClockTime::MIDNIGHT,
        });
        assert_eq!(shift_label(&named, "x", Locale::En), "Früh, lang");
    }
}
