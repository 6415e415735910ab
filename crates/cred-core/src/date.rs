//! Calendar dates as providers write them (`2013年07月08日`, `2021-12-31`, `20230403`).

use std::fmt;

/// A proleptic Gregorian calendar date that exists: made only by [`Date::new`] and
/// [`Date::parse`], read with [`Date::year`], [`Date::month`], [`Date::day`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Year, e.g. 2024.
    pub fn year(self) -> u16 {
        self.year
    }

    /// Month, 1-12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of the month, 1-31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// A date, if it exists in the calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses the date forms providers use: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`,
    /// `YYYYMMDD`, `YYYY年MM月DD日` (also spaced, `2013 年 09 月 24 日`), each optionally
    /// followed by a time that is ignored. Returns `None` for anything else, including
    /// dates that do not exist.
    pub fn parse(text: &str) -> Option<Date> {
        let compact: String;
        let mut text = crate::text::trim(text);
        // Where a time part would start (a space or `T`), found in one plain pass
        // (`memchr`'s set-up costs more than these few bytes); a space can only be at
        // or after it.
        let cut = text.bytes().position(|b| b == b' ' || b == b'T');
        let spaced = cut.is_some_and(|at| text.as_bytes()[at..].contains(&b' '));
        if spaced && text.contains('年') {
            // Spaces around 年/月/日 only; a time after 日 stays separated.
            let mut out = text.to_owned();
            for unit in ["年", "月", "日"] {
                while out.contains(&format!(" {unit}")) {
                    out = out.replace(&format!(" {unit}"), unit);
                }
                if unit != "日" {
                    while out.contains(&format!("{unit} ")) {
                        out = out.replace(&format!("{unit} "), unit);
                    }
                }
            }
            compact = out;
            text = &compact;
        }
        // Drop a trailing time part (`2020-08-10 12:00:00`, `2020-08-10T12:00:00Z`).
        let end = if spaced {
            text.bytes()
                .position(|b| b == b' ' || b == b'T')
                .unwrap_or(text.len())
        } else {
            cut.unwrap_or(text.len())
        };
        // Both ASCII: `end` is a character boundary.
        let date_part = &text[..end];
        // At most three numbers between separators, read byte by byte without
        // allocating: decoders parse a date per field.
        let mut numbers = [0u32; 3];
        let mut count = 0usize;
        // Digits of the number being read (0: between numbers).
        let mut digits = 0u32;
        let mut rest = date_part.as_bytes();
        while let Some((&b, tail)) = rest.split_first() {
            if b.is_ascii_digit() {
                if digits == 0 {
                    if count == 3 {
                        return None;
                    }
                    count += 1;
                }
                digits += 1;
                if digits > 8 {
                    return None;
                }
                numbers[count - 1] = numbers[count - 1] * 10 + u32::from(b - b'0');
                rest = tail;
                continue;
            }
            digits = 0;
            rest = match rest {
                [b'-' | b'/' | b'.', tail @ ..] => tail,
                // 年, 月, 日 in UTF-8.
                [0xE5, 0xB9, 0xB4, tail @ ..]
                | [0xE6, 0x9C, 0x88, tail @ ..]
                | [0xE6, 0x97, 0xA5, tail @ ..] => tail,
                _ => return None,
            };
        }
        let (y, m, d) = match (count, numbers) {
            (1, [ymd, ..]) if date_part.len() == 8 => (ymd / 10000, (ymd / 100) % 100, ymd % 100),
            (3, [y, m, d]) => (y, m, d),
            _ => return None,
        };
        if !(1000..=9999).contains(&y) || m > 12 || d > 31 {
            return None;
        }
        Date::new(y as u16, m as u8, d as u8)
    }

    /// Whether this date is not after today in UTC+8. A date no later than the first
    /// day this process asked about is answered without reading the clock (days only
    /// go forward); a later one reads it.
    pub fn is_past_or_today_china(self) -> bool {
        static FIRST_SEEN: std::sync::OnceLock<Date> = std::sync::OnceLock::new();
        self <= *FIRST_SEEN.get_or_init(Date::today_china) || self <= Date::today_china()
    }

    /// Today's date in UTC+8 (China Standard Time), from the system clock.
    pub fn today_china() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + 8 * 3600;
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    fn from_days_since_epoch(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let y = (yoe + era * 400 + i64::from(m <= 2)) as u16;
        Date {
            year: y,
            month: m,
            day: d,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A date field as the provider sent it: the raw text, and the date when it is one.
///
/// Serializes as `YYYY-MM-DD` when the text is a date and as the raw text otherwise.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct DateText {
    raw: String,
    date: Option<Date>,
}

impl DateText {
    /// Wraps provider text, parsing it when it is a date.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let date = Date::parse(&raw);
        Self { raw, date }
    }

    /// The text exactly as the provider sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The date, when the text is one.
    pub fn date(&self) -> Option<Date> {
        self.date
    }
}

impl fmt::Debug for DateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date {
            Some(d) => write!(f, "{d}"),
            None => write!(f, "{:?}", self.raw),
        }
    }
}

impl fmt::Display for DateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date {
            Some(d) => write!(f, "{d}"),
            None => f.write_str(&self.raw),
        }
    }
}

impl serde::Serialize for DateText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reading `Date::parse` had before it read bytes: spaces around the units
    /// dropped, a time cut off, split on the separators, empty parts dropped, at most 8
    /// digits each. The scanner must agree with it.
    fn split_reading(text: &str) -> Option<Date> {
        let mut text = text.trim().to_owned();
        if text.contains('年') && text.contains(' ') {
            for unit in ["年", "月", "日"] {
                while text.contains(&format!(" {unit}")) {
                    text = text.replace(&format!(" {unit}"), unit);
                }
                if unit != "日" {
                    while text.contains(&format!("{unit} ")) {
                        text = text.replace(&format!("{unit} "), unit);
                    }
                }
            }
        }
        let date_part = text.split([' ', 'T']).next().unwrap_or(&text);
        let digits: Vec<u32> = date_part
            .split(['-', '/', '.', '年', '月', '日'])
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.chars().all(|c| c.is_ascii_digit()) && s.len() <= 8 {
                    s.parse::<u32>().ok()
                } else {
                    None
                }
            })
            .collect::<Option<Vec<u32>>>()?;
        let (y, m, d) = match digits.as_slice() {
            [ymd] if date_part.len() == 8 => (ymd / 10000, (ymd / 100) % 100, ymd % 100),
            [y, m, d] => (*y, *m, *d),
            _ => return None,
        };
        if !(1000..=9999).contains(&y) || m > 12 || d > 31 {
            return None;
        }
        Date::new(y as u16, m as u8, d as u8)
    }

    proptest! {
        #[test]
        fn the_scanner_agrees_with_the_split_reading(
            text in "[0-9年月日./\\-x０ T:]{0,16}"
        ) {
            prop_assert_eq!(Date::parse(&text), split_reading(&text));
        }
    }

    #[test]
    fn parses_provider_forms() {
        let d = Date::new(2013, 7, 8);
        assert_eq!(Date::parse("2013年07月08日"), d);
        assert_eq!(Date::parse("2013 年 07 月 08 日"), d);
        assert_eq!(Date::parse("2013 年 07 月 08 日 12:00:00"), d);
        assert_eq!(Date::parse("2013-07-08"), d);
        assert_eq!(Date::parse("2013/7/8"), d);
        assert_eq!(Date::parse("20130708"), d);
        assert_eq!(Date::parse("2013.07.08"), d);
        assert_eq!(Date::parse("2013-07-08 12:30:00"), d);
        assert_eq!(Date::parse("2013-07-08T12:30:00+08:00"), d);
    }

    #[test]
    fn rejects_non_dates() {
        for s in [
            "",
            "长期",
            "2013-02-30",
            "2013-13-01",
            "2013",
            "abcd-ef-gh",
            "2013-07",
        ] {
            assert_eq!(Date::parse(s), None, "{s}");
        }
        assert_eq!(Date::parse("2000-02-29"), Date::new(2000, 2, 29));
        assert_eq!(Date::parse("1900-02-29"), None);
    }

    #[test]
    fn date_text_keeps_raw_and_formats_iso() {
        let t = DateText::new("2013年07月08日");
        assert_eq!(t.raw(), "2013年07月08日");
        assert_eq!(t.to_string(), "2013-07-08");
        let other = DateText::new("长期有效");
        assert_eq!(other.date(), None);
        assert_eq!(other.to_string(), "长期有效");
        assert_eq!(
            serde_json::to_string(&t).ok().as_deref(),
            Some("\"2013-07-08\"")
        );
    }

    #[test]
    fn civil_from_days() {
        assert_eq!(
            Date::from_days_since_epoch(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            Date::from_days_since_epoch(19_723),
            Date {
                year: 2024,
                month: 1,
                day: 1
            }
        );
        assert!(Date::today_china().year >= 2024);
    }
}
