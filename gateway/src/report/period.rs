//! The span a report covers, as people write it: `2026-11-23` (a whole local day),
//! `2026-11-23T07:00` (local time), RFC 3339 with an offset (`2026-11-23T07:00:00+08:00`), or
//! Unix milliseconds. Used by the REST API and `pingan report`, so both read times alike.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use pingan_drivers::Timestamp;

use super::response::MAX_SPAN_DAYS;
use crate::config::window::{local_date, utc_ms};

/// A time or span that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not one of the accepted forms.
    #[error(
        "{0:?} is not a time; expected a date (2026-11-23), a local time (2026-11-23T07:00), \
         RFC 3339 (2026-11-23T07:00:00+08:00) or Unix milliseconds"
    )]
    Unreadable(String),
    /// `to` is not after `from`.
    #[error("the end of the span must be after its start")]
    Empty,
    /// Longer than a report covers.
    #[error("a report covers at most {MAX_SPAN_DAYS} days")]
    TooLong,
}

/// Reads a time in `tz`. A date alone means its local midnight, or with `end_of_day` the next
/// midnight, so `--from 2026-11-01 --to 2026-11-07` covers seven whole days.
pub fn parse_time(s: &str, tz: chrono_tz::Tz, end_of_day: bool) -> Result<Timestamp, PeriodError> {
    let s = s.trim();
    let bad = || PeriodError::Unreadable(s.to_owned());
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Timestamp(t.timestamp_millis()));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if end_of_day {
            d.succ_opt().ok_or_else(bad)?
        } else {
            d
        };
        return utc_ms(day, NaiveTime::MIN, tz)
            .map(Timestamp)
            .ok_or_else(bad);
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return utc_ms(t.date(), t.time(), tz)
                .map(Timestamp)
                .ok_or_else(bad);
        }
    }
    Err(bad())
}

/// A span named the way people ask for it, in the site's local days: `today`, `yesterday`,
/// `week` (the last 7 days, today included) or `month` (the last 30 days); `None` for another
/// name. Local days are the site's, not those of the browser that asks.
pub fn named_span(name: &str, now: Timestamp, tz: chrono_tz::Tz) -> Option<(Timestamp, Timestamp)> {
    let today = local_date(now, tz)?;
    let (first, days) = match name {
        "today" => (today, 1),
        "yesterday" => (today.pred_opt()?, 1),
        "week" => (today.checked_sub_days(chrono::Days::new(6))?, 7),
        "month" => (today.checked_sub_days(chrono::Days::new(29))?, 30),
        _ => return None,
    };
    let end = first.checked_add_days(chrono::Days::new(days))?;
    let at = |d| utc_ms(d, NaiveTime::MIN, tz).map(Timestamp);
    Some((at(first)?, at(end)?))
}

/// Checks a span: not empty, at most [`MAX_SPAN_DAYS`] long.
pub fn check_span(from: Timestamp, to: Timestamp) -> Result<(), PeriodError> {
    if to <= from {
        return Err(PeriodError::Empty);
    }
    if to.millis() - from.millis() > MAX_SPAN_DAYS * 86_400_000 {
        return Err(PeriodError::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;
    use proptest::prelude::*;

    /// 2026-07-01 00:00 in Shanghai.
    const JUL1: i64 = 1_782_835_200_000;

    #[test]
    fn every_written_form_reads_as_the_same_instant() {
        let at = Timestamp(JUL1 + 7 * 3_600_000);
        for s in [
            "2026-07-01T07:00",
            "2026-07-01 07:00",
            "2026-07-01T07:00:00",
            "2026-07-01T07:00:00+08:00",
            "2026-06-30T23:00:00Z",
            "1782860400000",
        ] {
            assert_eq!(parse_time(s, Shanghai, false), Ok(at), "{s}");
        }
        assert_eq!(
            parse_time("2026-07-01", Shanghai, false),
            Ok(Timestamp(JUL1))
        );
        assert_eq!(
            parse_time("2026-07-01", Shanghai, true),
            Ok(Timestamp(JUL1 + 86_400_000))
        );
    }

    #[test]
    fn spans_must_be_forward_and_at_most_a_year() {
        assert_eq!(
            check_span(Timestamp(5), Timestamp(5)),
            Err(PeriodError::Empty)
        );
        assert_eq!(
            check_span(Timestamp(0), Timestamp(367 * 86_400_000)),
            Err(PeriodError::TooLong)
        );
        assert!(check_span(Timestamp(0), Timestamp(86_400_000)).is_ok());
        assert!(matches!(
            parse_time("yesterday", Shanghai, false),
            Err(PeriodError::Unreadable(_))
        ));
    }

    #[test]
    fn named_spans_are_whole_local_days_of_the_site() {
        // 06:42 on 2 July in Shanghai is still 1 July in UTC: "today" is the site's 2 July.
        let now = Timestamp(JUL1 + 86_400_000 + 6 * 3_600_000 + 42 * 60_000);
        let day = 86_400_000;
        assert_eq!(
            named_span("today", now, Shanghai),
            Some((Timestamp(JUL1 + day), Timestamp(JUL1 + 2 * day)))
        );
        assert_eq!(
            named_span("yesterday", now, Shanghai),
            Some((Timestamp(JUL1), Timestamp(JUL1 + day)))
        );
        let (from, to) = named_span("week", now, Shanghai).unwrap();
        assert_eq!(
            (to.millis() - from.millis(), to),
            (7 * day, Timestamp(JUL1 + 2 * day))
        );
        assert_eq!(named_span("fortnight", now, Shanghai), None);
    }

    proptest! {
        #[test]
        fn time_parsing_never_panics(s in ".{0,40}") {
            let _ = parse_time(&s, Shanghai, true);
        }
    }
}
