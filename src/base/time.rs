//! The ISO-8601 UTC instants of Freedom ID's token answers (`2025-03-04T06:35:50.000000Z`),
//! read into unix seconds. Strict: a date that does not exist, a time out of range, a zone
//! other than UTC or anything trailing is refused; nothing here can panic or overflow.

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)` as unix seconds (the fraction, up to
/// nine digits, is dropped). Years 1970 to 9999 only; a lowercase `t`/`z` or a space for
/// `T` are refused, as are leap seconds.
pub fn parse_utc_instant(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (head, zone) = if let Some(head) = text.strip_suffix('Z') {
        (head, "Z")
    } else {
        let at = bytes.len().checked_sub(6)?;
        (text.get(..at)?, text.get(at..)?)
    };
    if zone != "Z" && zone != "+00:00" {
        return None;
    }
    let (whole, fraction) = match head.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (head, None),
    };
    if let Some(fraction) = fraction {
        let digits = !fraction.is_empty() && fraction.len() <= 9;
        if !digits || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    // YYYY-MM-DDTHH:MM:SS is exactly 19 bytes with separators at fixed places.
    let shape = whole.as_bytes();
    if shape.len() != 19 {
        return None;
    }
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        if shape.get(at) != Some(&separator) {
            return None;
        }
    }
    let number = |from: usize, to: usize| -> Option<u64> {
        let digits = whole.get(from..to)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date from 1970 on (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days from 0000-03-01 to 1970-01-01; dates before 1970 were refused above.
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_providers_examples() {
        let cases = [
            ("2025-03-04T06:35:50.000000Z", 1_741_070_150),
            ("2024-10-02T10:52:21.000000Z", 1_727_866_341),
            ("2024-10-25T10:52:21Z", 1_729_853_541),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T23:59:59.999999999Z", 951_868_799),
            ("2024-10-25T10:52:21.5+00:00", 1_729_853_541),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
        ];
        for (text, unix) in cases {
            assert_eq!(parse_utc_instant(text), Some(unix), "{text}");
        }
    }

    #[test]
    fn refuses_anything_that_is_not_a_valid_utc_instant() {
        let bad = [
            "",
            "Z",
            "2025-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-02-30T25:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2016-12-31T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "2025-01-01T00:00:00",
            "2025-01-01T00:00:00+05:00",
            "2025-01-01t00:00:00z",
            "2025-01-01 00:00:00Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00.1234567890Z",
            "2025-01-01T00:00:00.12a4Z",
            "+2025-01-01T00:00:00Z",
            "2025-1-01T00:00:00Z",
            "20250101T000000Z",
            "2025-01-01T00:00:00ZZ",
            "2025-01-01T00:00:00Z ",
            "1741070150",
            "２０２５-01-01T00:00:00Z",
        ];
        for text in bad {
            assert_eq!(parse_utc_instant(text), None, "{text:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_counts_up_by_one() {
        let mut expected = 0;
        for year in 1970..2370 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    let text = format!("{year:04}-{month:02}-{day:02}T00:00:00Z");
                    assert_eq!(parse_utc_instant(&text), Some(expected * 86_400), "{text}");
                    expected += 1;
                }
            }
        }
    }
}
