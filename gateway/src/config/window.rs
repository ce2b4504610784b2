//! Local clock times and daily windows ("22:00"–"06:00") evaluated in the site's time zone.
//!
//! Rules hold UTC [`Timestamp`]s; care plans speak local time. This module is the one place that
//! converts, so a night window that crosses midnight or a DST change is handled once.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike};
use pingan_drivers::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The site's IANA time zone, parsed when the config is read so an unknown name is a config error
/// at its place in the file, not a silent fallback later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl Default for Timezone {
    fn default() -> Self {
        Self(chrono_tz::Asia::Shanghai)
    }
}

impl Serialize for Timezone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for Timezone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown time zone \"{name}\"; expected an IANA name such as \"Asia/Shanghai\""
            ))
        })
    }
}

/// A local wall-clock time written `"HH:MM"` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(NaiveTime);

impl ClockTime {
    /// 00:00.
    pub const MIDNIGHT: Self = Self(NaiveTime::MIN);

    /// `hour:minute`; `None` when out of range.
    pub fn hm(hour: u32, minute: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(Self)
    }

    /// The wall-clock time.
    pub fn time(self) -> NaiveTime {
        self.0
    }

    /// Seconds since local midnight.
    pub fn seconds(self) -> u32 {
        self.0.num_seconds_from_midnight()
    }
}

/// Text that is not a `"HH:MM"` time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a local time like \"22:00\", found {0:?}")]
pub struct ClockTimeError(String);

impl FromStr for ClockTime {
    type Err = ClockTimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map(Self)
            .map_err(|_| ClockTimeError(s.to_owned()))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A daily window of local time from `start` to `end`; it crosses midnight when `end <= start`
/// (`"22:00"`–`"06:00"`), and `start == end` means the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalWindow {
    /// First minute inside the window, local time.
    pub start: ClockTime,
    /// First minute after the window, local time.
    pub end: ClockTime,
}

impl LocalWindow {
    /// A window from `start` to `end` (hours and minutes); panics never: bad values give the whole
    /// day, and callers build windows from literals.
    pub fn hm(start: (u32, u32), end: (u32, u32)) -> Self {
        let midnight = ClockTime(NaiveTime::MIN);
        Self {
            start: ClockTime::hm(start.0, start.1).unwrap_or(midnight),
            end: ClockTime::hm(end.0, end.1).unwrap_or(midnight),
        }
    }

    /// Whether `at` falls inside the window in time zone `tz`.
    pub fn contains(&self, at: Timestamp, tz: chrono_tz::Tz) -> bool {
        let Some(local) = local_seconds(at, tz) else {
            return false;
        };
        let (s, e) = (self.start.seconds(), self.end.seconds());
        if s == e {
            true
        } else if s < e {
            (s..e).contains(&local)
        } else {
            local >= s || local < e
        }
    }

    /// How long, in milliseconds, the span `from..to` overlaps the window, counting at most
    /// `max_days` local days back from `to` (older time is ignored: callers cap it anyway).
    pub fn overlap_ms(
        &self,
        from: Timestamp,
        to: Timestamp,
        tz: chrono_tz::Tz,
        max_days: u32,
    ) -> i64 {
        if to <= from {
            return 0;
        }
        let Some(to_date) = local_date(to, tz) else {
            return 0;
        };
        let mut total = 0_i64;
        // A window crossing midnight starts the day before; one extra day back covers it.
        for back in 0..=u64::from(max_days) + 1 {
            let Some(day) = to_date.checked_sub_days(chrono::Days::new(back)) else {
                break;
            };
            let spans = self.spans_of(day, tz);
            for &(ws, we) in &spans {
                let s = ws.max(from.millis());
                let e = we.min(to.millis());
                if e > s {
                    total += e - s;
                }
            }
            // Instances are ordered: once one ends before `from`, every earlier one does too.
            if spans.iter().all(|&(_, we)| we <= from.millis()) && !spans.is_empty() {
                break;
            }
        }
        total
    }

    /// The window instances that start on local date `day`, as UTC millisecond spans.
    fn spans_of(&self, day: NaiveDate, tz: chrono_tz::Tz) -> Vec<(i64, i64)> {
        let (s, e) = (self.start.0, self.end.0);
        let Some(start) = utc_ms(day, s, tz) else {
            return Vec::new();
        };
        let end_day = if e <= s { day.succ_opt() } else { Some(day) };
        let Some(end) = end_day.and_then(|d| utc_ms(d, e, tz)) else {
            return Vec::new();
        };
        vec![(start, end)]
    }

    /// When the current or most recent window instance containing `at` started (UTC ms).
    pub fn started_before(&self, at: Timestamp, tz: chrono_tz::Tz) -> Option<Timestamp> {
        let date = local_date(at, tz)?;
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .flat_map(|d| self.spans_of(d, tz))
            .filter(|(s, e)| *s <= at.millis() && at.millis() < *e)
            .map(|(s, _)| Timestamp(s))
            .max()
    }
}

fn local_seconds(at: Timestamp, tz: chrono_tz::Tz) -> Option<u32> {
    let utc = chrono::DateTime::from_timestamp_millis(at.millis())?;
    Some(utc.with_timezone(&tz).time().num_seconds_from_midnight())
}

/// The local calendar date of `at`.
pub fn local_date(at: Timestamp, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    let utc = chrono::DateTime::from_timestamp_millis(at.millis())?;
    Some(utc.with_timezone(&tz).date_naive())
}

/// UTC milliseconds of local `day` at `time`; a time skipped by a DST change takes the next valid
/// instant, an ambiguous one the earlier.
pub fn utc_ms(day: NaiveDate, time: NaiveTime, tz: chrono_tz::Tz) -> Option<i64> {
    let naive = day.and_time(time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            Some(t.timestamp_millis())
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.timestamp_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    /// 2026-07-01 00:00 in Shanghai (UTC+8) is 2026-06-30T16:00Z.
    const MIDNIGHT_JUL1_CST: i64 = 1_782_835_200_000;
    const H: i64 = 3_600_000;

    fn local(h: i64, m: i64) -> Timestamp {
        Timestamp(MIDNIGHT_JUL1_CST + h * H + m * 60_000)
    }

    #[test]
    fn clock_time_parses_hh_mm_and_rejects_garbage() {
        assert_eq!("22:00".parse::<ClockTime>().ok(), ClockTime::hm(22, 0));
        assert!("25:00".parse::<ClockTime>().is_err());
        assert!("night".parse::<ClockTime>().is_err());
        assert_eq!(
            ClockTime::hm(6, 5).map(|t| t.to_string()).as_deref(),
            Some("06:05")
        );
    }

    #[test]
    fn night_window_crosses_midnight() {
        let night = LocalWindow::hm((22, 0), (6, 0));
        let cases = [
            (local(21, 59), false),
            (local(22, 0), true),
            (local(23, 30), true),
            (local(24 + 3, 0), true),
            (local(5, 59), true),
            (local(6, 0), false),
            (local(12, 0), false),
        ];
        for (at, inside) in cases {
            assert_eq!(night.contains(at, Shanghai), inside, "{at:?}");
        }
    }

    #[test]
    fn equal_start_and_end_is_the_whole_day() {
        let all = LocalWindow::hm((0, 0), (0, 0));
        assert!(all.contains(local(3, 0), Shanghai));
        assert!(all.contains(local(15, 0), Shanghai));
    }

    #[test]
    fn overlap_counts_only_time_inside_the_window() {
        let day = LocalWindow::hm((7, 0), (21, 0));
        // 18:00 → next day 09:00: 3 h this evening + 2 h next morning.
        let got = day.overlap_ms(local(18, 0), local(24 + 9, 0), Shanghai, 7);
        assert_eq!(got, 5 * H);
        // Entirely at night: nothing.
        assert_eq!(
            day.overlap_ms(local(22, 0), local(24 + 6, 0), Shanghai, 7),
            0
        );
        // Three whole days: 3 × 14 h.
        assert_eq!(
            day.overlap_ms(local(0, 0), local(72, 0), Shanghai, 7),
            42 * H
        );
    }

    #[test]
    fn overlap_of_a_night_window_spans_midnight() {
        let night = LocalWindow::hm((22, 0), (6, 0));
        assert_eq!(
            night.overlap_ms(local(23, 0), local(24 + 2, 0), Shanghai, 7),
            3 * H
        );
        assert_eq!(
            night.overlap_ms(local(1, 0), local(7, 0), Shanghai, 7),
            5 * H
        );
    }

    #[test]
    fn started_before_finds_the_night_that_began_yesterday() {
        let night = LocalWindow::hm((22, 0), (6, 0));
        assert_eq!(
            night.started_before(local(24 + 2, 0), Shanghai),
            Some(local(22, 0))
        );
        assert_eq!(night.started_before(local(12, 0), Shanghai), None);
    }
}
