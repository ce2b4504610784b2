//! The care team's shifts (`[[shifts]]`) in the site's local time, and where a moment falls in
//! them.
//!
//! A shift is written by its start time only and ends when the next one starts, so the shifts
//! always cover the whole day without gaps or overlaps; the last one of the day runs past
//! midnight into the first one of the next day. Local times become UTC spans through
//! [`utc_ms`], the same conversion the night windows use: a start time in an hour skipped by a
//! DST change moves to the next valid instant, an ambiguous one takes the earlier, and a shift
//! that spans a DST change is an hour shorter or longer that day.

use chrono::NaiveDate;
use pingan_drivers::Timestamp;
use serde::{Deserialize, Serialize};

use super::window::{ClockTime, local_date, utc_ms};

/// Longest span [`Shifts::between`] walks (a report over more days is refused before it gets
/// here; the cap keeps a bad range from looping for long).
pub const MAX_DAYS: u64 = 400;

/// One shift of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Id used in reports and payloads: a-z, 0-9, `-` and `_`. The dashboard names `day`,
    /// `evening` and `night` in its own language.
    pub id: String,
    /// A display name for other ids, shown as written in every language.
    #[serde(default)]
    pub name: Option<String>,
    /// Local time the shift starts, `"HH:MM"`; it ends when the next shift starts.
    pub start: ClockTime,
}

/// The shifts of a site, as written in the config (methods see them in start order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Shifts(Vec<Shift>);

impl From<Vec<Shift>> for Shifts {
    fn from(v: Vec<Shift>) -> Self {
        Self(v)
    }
}

impl Default for Shifts {
    /// Day 07:00–15:00, evening 15:00–23:00, night 23:00–07:00.
    fn default() -> Self {
        let shift = |id: &str, h| Shift {
            id: id.to_owned(),
            name: None,
            start: ClockTime::hm(h, 0).unwrap_or(ClockTime::MIDNIGHT),
        };
        Self(vec![
            shift("day", 7),
            shift("evening", 15),
            shift("night", 23),
        ])
    }
}

/// One shift on one day: which shift, the local date it starts on, and its span in UTC
/// (`start` inclusive, `end` exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftInstance {
    /// The shift's id.
    pub shift: String,
    /// The local date the shift starts on (a night shift that starts at 23:00 on the 1st
    /// belongs to the 1st).
    pub date: NaiveDate,
    /// First instant of the shift.
    pub start: Timestamp,
    /// First instant after it: the next shift's start.
    pub end: Timestamp,
}

impl Shifts {
    /// The shifts in the order the config file lists them (for its error messages).
    pub fn as_written(&self) -> &[Shift] {
        &self.0
    }

    /// The shifts, earliest start first.
    pub fn list(&self) -> Vec<&Shift> {
        let mut v: Vec<&Shift> = self.0.iter().collect();
        v.sort_by_key(|s| s.start);
        v
    }

    /// A shift by id.
    pub fn get(&self, id: &str) -> Option<&Shift> {
        self.0.iter().find(|s| s.id == id)
    }

    /// Where a shift ends, as a local time (the next shift's start).
    pub fn end_of(&self, id: &str) -> Option<ClockTime> {
        let list = self.list();
        let i = list.iter().position(|s| s.id == id)?;
        list.get((i + 1) % list.len()).map(|s| s.start)
    }

    /// The shift instances that start on local date `day`, in order. An instance that would be
    /// empty (two starts in one hour skipped by DST) is left out.
    pub fn on(&self, day: NaiveDate, tz: chrono_tz::Tz) -> Vec<ShiftInstance> {
        let list = self.list();
        let mut out = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let (next, next_day) = match list.get(i + 1) {
                Some(n) => (n, Some(day)),
                None => match list.first() {
                    Some(first) => (first, day.succ_opt()),
                    None => continue,
                },
            };
            let start = utc_ms(day, s.start.time(), tz);
            let end = next_day.and_then(|d| utc_ms(d, next.start.time(), tz));
            if let (Some(start), Some(end)) = (start, end) {
                if end > start {
                    out.push(ShiftInstance {
                        shift: s.id.clone(),
                        date: day,
                        start: Timestamp(start),
                        end: Timestamp(end),
                    });
                }
            }
        }
        out
    }

    /// The shift instance `at` falls in.
    pub fn at(&self, at: Timestamp, tz: chrono_tz::Tz) -> Option<ShiftInstance> {
        let date = local_date(at, tz)?;
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .flat_map(|d| self.on(d, tz))
            .find(|i| i.start <= at && at < i.end)
    }

    /// The instance before `instance` (the one whose end is its start).
    pub fn before(&self, instance: &ShiftInstance, tz: chrono_tz::Tz) -> Option<ShiftInstance> {
        self.at(Timestamp(instance.start.millis() - 1), tz)
    }

    /// Every shift instance that overlaps `from..to`, in order; at most [`MAX_DAYS`] days.
    pub fn between(&self, from: Timestamp, to: Timestamp, tz: chrono_tz::Tz) -> Vec<ShiftInstance> {
        let (Some(first), Some(last)) = (local_date(from, tz), local_date(to, tz)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut day = first.pred_opt().unwrap_or(first);
        for _ in 0..MAX_DAYS + 2 {
            if day > last {
                break;
            }
            out.extend(
                self.on(day, tz)
                    .into_iter()
                    .filter(|i| i.end > from && i.start < to),
            );
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;
    use chrono_tz::Europe::Berlin;

    /// 2026-07-01 00:00 in Shanghai (UTC+8).
    const MIDNIGHT_JUL1_CST: i64 = 1_782_835_200_000;
    const H: i64 = 3_600_000;

    fn local(h: i64, m: i64) -> Timestamp {
        Timestamp(MIDNIGHT_JUL1_CST + h * H + m * 60_000)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn default_shifts_cover_the_day_and_the_night_crosses_midnight() {
        let s = Shifts::default();
        let cases = [
            (local(6, 59), "night", date(2026, 6, 30)),
            (local(7, 0), "day", date(2026, 7, 1)),
            (local(14, 59), "day", date(2026, 7, 1)),
            (local(15, 0), "evening", date(2026, 7, 1)),
            (local(23, 0), "night", date(2026, 7, 1)),
            (local(24 + 3, 0), "night", date(2026, 7, 1)),
        ];
        for (at, id, day) in cases {
            let i = s.at(at, Shanghai).unwrap();
            assert_eq!((i.shift.as_str(), i.date), (id, day), "{at:?}");
        }
        let night = s.at(local(24 + 3, 0), Shanghai).unwrap();
        assert_eq!((night.start, night.end), (local(23, 0), local(24 + 7, 0)));
    }

    #[test]
    fn shifts_are_sorted_by_start_whatever_the_file_order() {
        let text =
            "[[s]]\nid = \"late\"\nstart = \"20:00\"\n[[s]]\nid = \"early\"\nstart = \"08:00\"\n";
        #[derive(Deserialize)]
        struct W {
            s: Shifts,
        }
        let w: W = toml::from_str(text).unwrap();
        let ids: Vec<&str> = w.s.list().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(w.s.as_written()[0].id, "late");
        assert_eq!(ids, ["early", "late"]);
        assert_eq!(
            w.s.end_of("late").map(|t| t.to_string()).as_deref(),
            Some("08:00")
        );
    }

    #[test]
    fn consecutive_instances_tile_time_without_gaps() {
        let s = Shifts::default();
        let all = s.between(local(0, 0), local(72, 0), Shanghai);
        assert_eq!(all.first().unwrap().shift, "night");
        for pair in all.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        // 3 days × 3 shifts, plus the night running into the first morning.
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn a_night_shift_across_the_spring_dst_change_is_an_hour_shorter() {
        // Berlin: 2026-03-29 02:00 → 03:00.
        let s = Shifts::default();
        let nights: Vec<ShiftInstance> = s
            .on(date(2026, 3, 28), Berlin)
            .into_iter()
            .filter(|i| i.shift == "night")
            .collect();
        assert_eq!(nights[0].end.millis() - nights[0].start.millis(), 7 * H);
        let autumn: Vec<ShiftInstance> = s
            .on(date(2026, 10, 24), Berlin)
            .into_iter()
            .filter(|i| i.shift == "night")
            .collect();
        assert_eq!(autumn[0].end.millis() - autumn[0].start.millis(), 9 * H);
    }

    #[test]
    fn the_instance_before_a_morning_shift_is_last_night() {
        let s = Shifts::default();
        let day = s.at(local(9, 0), Shanghai).unwrap();
        let night = s.before(&day, Shanghai).unwrap();
        assert_eq!((night.shift.as_str(), night.end), ("night", day.start));
    }

    #[test]
    fn a_single_shift_lasts_a_whole_day() {
        let s = Shifts::from(vec![Shift {
            id: "all".into(),
            name: None,
            start: ClockTime::hm(8, 0).unwrap(),
        }]);
        let i = s.at(local(7, 0), Shanghai).unwrap();
        assert_eq!((i.start, i.end), (local(-16, 0), local(8, 0)));
    }
}
