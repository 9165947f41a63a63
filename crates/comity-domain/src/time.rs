//! Points in time and calendar dates, as plain values: the domain never reads a clock.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC. The caller supplies "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Milliseconds in one day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Timestamp {
    /// The instant `days` whole days later.
    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(DAY_MS)))
    }

    /// The milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// RFC 3339 text, e.g. `2026-11-23T07:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(at) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                at.millisecond()
            ),
            Err(_) => format!("@{}ms", self.0),
        }
    }

    /// The calendar date (UTC) of this instant.
    pub fn date(self) -> Option<Date> {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(|at| Date(at.date()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A calendar date, e.g. a deadline asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

/// The reason a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date in the form YYYY-MM-DD")]
pub struct InvalidDate(pub String);

impl Date {
    /// 1970-01-01, the first day of Unix time.
    pub const UNIX_EPOCH: Date = Date(time::macros::date!(1970 - 01 - 01));

    /// Parses `YYYY-MM-DD`.
    pub fn parse(input: &str) -> Result<Date, InvalidDate> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(input.trim(), &format)
            .map(Date)
            .map_err(|_| InvalidDate(input.to_string()))
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The first instant of the day, UTC.
    pub fn start(self) -> Timestamp {
        let seconds = self.0.midnight().assume_utc().unix_timestamp();
        Timestamp(seconds.saturating_mul(1000))
    }

    /// The last millisecond of the day, UTC: a deadline on this date is met until then.
    pub fn end(self) -> Timestamp {
        Timestamp(self.start().0 + DAY_MS - 1)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bound_the_day() {
        let date = Date::parse("2026-11-23").expect("valid");
        assert_eq!(date.to_string(), "2026-11-23");
        assert_eq!(date.start().to_rfc3339(), "2026-11-23T00:00:00.000Z");
        assert_eq!(date.end().to_rfc3339(), "2026-11-23T23:59:59.999Z");
        assert_eq!(date.start().date(), Some(date));
        for bad in ["2026-13-01", "23/11/2026", "", "2026-02-30"] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }
}
