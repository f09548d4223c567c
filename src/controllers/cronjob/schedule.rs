//! A CronJob's schedule: standard five-field cron syntax and the `@yearly`-style macros, read
//! in `spec.timeZone` (UTC when unset). Parsing and the calendar arithmetic are the `croner`
//! crate's; zones are `chrono-tz`'s.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use time::OffsetDateTime;

/// A parsed schedule in its time zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
}

/// Why a schedule cannot be used (reason of the Warning event, message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unusable {
    /// `UnparseableSchedule` or `UnknownTimeZone`.
    pub reason: &'static str,
    /// What is wrong.
    pub message: String,
}

fn to_chrono(t: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), 0).unwrap_or_default()
}

fn to_time(t: DateTime<Utc>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A `spec.timeZone` (an IANA name; `None` or empty for UTC).
pub fn parse_zone(zone: Option<&str>) -> Result<Tz, Unusable> {
    match zone {
        None | Some("") => Ok(Tz::UTC),
        Some(name) => Tz::from_str(name).map_err(|_| Unusable {
            reason: "UnknownTimeZone",
            message: format!("unknown time zone {name}"),
        }),
    }
}

impl Schedule {
    /// Parses `schedule` for `zone` (an IANA name; `None` for UTC).
    pub fn parse(schedule: &str, zone: Option<&str>) -> Result<Schedule, Unusable> {
        let zone = parse_zone(zone)?;
        let text = schedule.trim();
        if text.contains("TZ=") {
            return Err(Unusable {
                reason: "UnparseableSchedule",
                message: "cannot use TZ or CRON_TZ in schedule, use timeZone field instead".into(),
            });
        }
        let unparseable = |why: String| Unusable {
            reason: "UnparseableSchedule",
            message: why,
        };
        let text = if text.eq_ignore_ascii_case("@midnight") {
            "@daily"
        } else {
            text
        };
        if !text.starts_with('@') && text.split_whitespace().count() != 5 {
            return Err(unparseable(format!(
                "expected exactly 5 fields, found {}",
                text.split_whitespace().count()
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| unparseable(e.to_string()))?;
        Ok(Schedule { cron, zone })
    }

    /// The latest scheduled time at or before `now`.
    pub fn latest(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let local = to_chrono(now).with_timezone(&self.zone);
        let t = self.cron.find_previous_occurrence(&local, true).ok()?;
        Some(to_time(t.with_timezone(&Utc)))
    }

    /// The first scheduled time after `now`.
    pub fn next(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let local = to_chrono(now).with_timezone(&self.zone);
        let t = self.cron.find_next_occurrence(&local, false).ok()?;
        Some(to_time(t.with_timezone(&Utc)))
    }

    /// `t` as RFC 3339 in the schedule's zone (the `cronjob-scheduled-timestamp` annotation).
    pub fn local_rfc3339(&self, t: OffsetDateTime) -> String {
        to_chrono(t)
            .with_timezone(&self.zone)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::pod_state::parse_time;

    fn at(s: &str) -> OffsetDateTime {
        parse_time(s).unwrap()
    }

    #[test]
    fn every_minute_and_macros() {
        let s = Schedule::parse("*/1 * * * *", None).unwrap();
        assert_eq!(
            s.latest(at("2024-01-01T10:00:30Z")),
            Some(at("2024-01-01T10:00:00Z"))
        );
        assert_eq!(
            s.next(at("2024-01-01T10:00:30Z")),
            Some(at("2024-01-01T10:01:00Z"))
        );
        let h = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(
            h.next(at("2024-01-01T10:00:30Z")),
            Some(at("2024-01-01T11:00:00Z"))
        );
        let m = Schedule::parse("@midnight", None).unwrap();
        assert_eq!(
            m.next(at("2024-01-01T10:00:30Z")),
            Some(at("2024-01-02T00:00:00Z"))
        );
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let s = Schedule::parse("0 9 * * *", Some("Europe/Berlin")).unwrap();
        // 09:00 in Berlin in winter is 08:00 UTC.
        assert_eq!(
            s.next(at("2024-01-01T00:00:00Z")),
            Some(at("2024-01-01T08:00:00Z"))
        );
        assert_eq!(
            s.local_rfc3339(at("2024-01-01T08:00:00Z")),
            "2024-01-01T09:00:00+01:00"
        );
    }

    #[test]
    fn bad_schedules_and_zones_are_refused() {
        assert_eq!(
            Schedule::parse("* * * *", None).unwrap_err().reason,
            "UnparseableSchedule"
        );
        assert_eq!(
            Schedule::parse("0 * * * * *", None).unwrap_err().reason,
            "UnparseableSchedule"
        );
        assert_eq!(
            Schedule::parse("61 * * * *", None).unwrap_err().reason,
            "UnparseableSchedule"
        );
        assert_eq!(
            Schedule::parse("* * * * *", Some("Mars/Olympus"))
                .unwrap_err()
                .reason,
            "UnknownTimeZone"
        );
    }
}
