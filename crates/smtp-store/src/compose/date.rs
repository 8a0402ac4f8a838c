//! RFC 5322 dates in UTC (`Fri, 27 Nov 2026 21:30:00 +0000`), from a `SystemTime`.
//!
//! The civil date comes from Howard Hinnant's `civil_from_days` (proleptic Gregorian calendar),
//! which needs no tables and no time zone database.

use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SECONDS_PER_DAY: u64 = 86_400;

/// A time as an RFC 5322 `date-time` in UTC, to the second. Times before 1970 are written as
/// the epoch.
pub(super) struct Rfc5322(pub(super) SystemTime);

impl Rfc5322 {
    /// Appends the date to `out`. Written by hand rather than with `write!`: every stored
    /// message gets one, and `core::fmt`'s padding machinery cost more than the rest of it.
    pub(super) fn push_to(&self, out: &mut String) {
        let secs = self.0.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let days = secs / SECONDS_PER_DAY;
        let of_day = secs % SECONDS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday.
        out.push_str(WEEKDAYS[((days + 4) % 7) as usize]);
        out.push_str(", ");
        push_two_digits(out, u64::from(day));
        out.push(' ');
        out.push_str(MONTHS[usize::from(month - 1)]);
        out.push(' ');
        super::push_decimal(out, year);
        out.push(' ');
        push_two_digits(out, of_day / 3600);
        out.push(':');
        push_two_digits(out, of_day / 60 % 60);
        out.push(':');
        push_two_digits(out, of_day % 60);
        out.push_str(" +0000");
    }
}

/// `n` (below 100) as two decimal digits.
fn push_two_digits(out: &mut String, n: u64) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Year, month (1..=12) and day (1..=31) of the day `days` after 1970-01-01.
pub(super) fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // day <= 31 and month <= 12 by construction.
    (year, month as u8, day as u8)
}
