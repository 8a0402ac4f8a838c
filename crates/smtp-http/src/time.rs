//! Timestamps in the API's text forms, without a date crate: RFC 3339 out, search dates in.
//!
//! Times are written in UTC with millisecond precision and trailing zeros trimmed, as Go's
//! `time.Time` JSON encoding writes Mailpit's millisecond timestamps (`2024-05-01T10:11:12.34Z`).

use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// `time` as RFC 3339 in UTC, milliseconds kept, trailing zeros (and a bare `.`) trimmed.
#[must_use]
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let millis = match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let seconds = millis.div_euclid(1000);
    let fraction = millis.rem_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    if fraction > 0 {
        let digits = format!("{fraction:03}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Milliseconds since the Unix epoch (negative before it).
#[must_use]
pub(crate) fn unix_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A search date (`before:`/`after:`) as milliseconds since the epoch.
///
/// Accepts `YYYY-MM-DD` or `YYYY/MM/DD`, optionally followed by `T` or a space and
/// `HH:MM[:SS[.fff]]`, optionally followed by `Z` or an offset `±HH:MM`/`±HHMM`. Times without
/// an offset are UTC (Mailpit reads them in its local zone, or the request's `tz`).
#[must_use]
pub(crate) fn parse_search_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.len().min(10);
    if !text.is_char_boundary(split) {
        return None;
    }
    let (date, rest) = text.split_at(split);
    let date = date.replace('/', "-");
    let mut fields = date.split('-');
    let year: i64 = number(fields.next()?, 4)?;
    let month: u32 = number(fields.next()?, 2)?;
    let day: u32 = number(fields.next()?, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (time_of_day, offset) = parse_time_and_offset(rest)?;
    let days = days_from_civil(year, month, day);
    Some((days * SECONDS_PER_DAY + time_of_day - offset) * 1000)
}

/// Seconds into the day and the zone offset in seconds, from what follows the date.
fn parse_time_and_offset(rest: &str) -> Option<(i64, i64)> {
    let Some(rest) = rest.strip_prefix(['T', 't', ' ']) else {
        return rest.is_empty().then_some((0, 0));
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let clock = clock.split_once('.').map_or(clock, |(whole, _)| whole);
    let mut parts = clock.split(':');
    let hours: i64 = number(parts.next()?, 2)?;
    let minutes: i64 = number(parts.next()?, 2)?;
    let seconds: i64 = parts.next().map_or(Some(0), |s| number(s, 2))?;
    if parts.next().is_some() || hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    Some((hours * 3600 + minutes * 60 + seconds, parse_offset(zone)?))
}

fn parse_offset(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let (sign, digits) = match zone.split_at(1) {
        ("+", digits) => (1, digits),
        ("-", digits) => (-1, digits),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = number(&digits[..2], 2)?;
    let minutes: i64 = number(&digits[2..], 2)?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// A decimal field of exactly `width` ASCII digits.
fn number<T: std::str::FromStr>(field: &str, width: usize) -> Option<T> {
    if field.len() != width || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date for days since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// `time` in the RFC 5322 form of a `Date:` header, in UTC (`Fri, 27 Nov 2026 21:30:00 +0000`).
#[must_use]
pub(crate) fn rfc5322(time: SystemTime) -> String {
    let d = DateParts::of(time);
    format!(
        "{}, {} {} {:04} {:02}:{:02}:{:02} +0000",
        d.weekday, d.day, d.month, d.year, d.hour, d.minute, d.second
    )
}

/// `time` as an HTTP `Date:` (RFC 9110 IMF-fixdate: `Fri, 27 Nov 2026 21:30:00 GMT`).
#[must_use]
pub(crate) fn http_date(time: SystemTime) -> String {
    let d = DateParts::of(time);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        d.weekday, d.day, d.month, d.year, d.hour, d.minute, d.second
    )
}

/// A UTC time broken into the fields the text forms print.
struct DateParts {
    weekday: &'static str,
    day: u32,
    month: &'static str,
    year: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl DateParts {
    fn of(time: SystemTime) -> Self {
        // 1970-01-01 was a Thursday.
        const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let seconds = unix_millis(time).div_euclid(1000);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let weekday = usize::try_from(days.rem_euclid(7)).unwrap_or(0);
        let month = usize::try_from(month.saturating_sub(1)).unwrap_or(0);
        Self {
            weekday: WEEKDAYS[weekday % 7],
            day,
            month: MONTHS[month % 12],
            year,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }
}
