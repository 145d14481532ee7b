//! Reporting periods (ADR 0042): whole days in UTC, `from` and `to` both included, so
//! `from=2026-01-01&to=2026-12-31` is the year 2026. An entry belongs to the period when it
//! occurred at or after `from`'s midnight and before the midnight after `to`.

use chrono::{DateTime, Days, NaiveDate, Utc};

/// The longest period a report covers, in days (a little over ten years).
pub const MAX_DAYS: u64 = 3_700;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// The last day, included.
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`to` must not be before `from`")]
    Reversed,
    #[error("a period covers at most {MAX_DAYS} days")]
    TooLong,
    #[error("the period lies outside the calendar")]
    OutOfRange,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed);
        }
        let period = Self { from, to };
        if period.days() > MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        // Its bounds and its previous period's must exist.
        period.end().ok_or(PeriodError::OutOfRange)?;
        period.previous().ok_or(PeriodError::OutOfRange)?;
        Ok(period)
    }

    /// The number of days, both ends included.
    pub fn days(&self) -> u64 {
        u64::try_from((self.to - self.from).num_days() + 1).unwrap_or(0)
    }

    /// The first instant of the period.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first instant after the period (`to`'s next midnight).
    pub fn end(&self) -> Option<DateTime<Utc>> {
        Some(
            self.to
                .checked_add_days(Days::new(1))?
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
        )
    }

    /// The period of as many days ending the day before this one starts.
    pub fn previous(&self) -> Option<Self> {
        let to = self.from.checked_sub_days(Days::new(1))?;
        let from = self.from.checked_sub_days(Days::new(self.days()))?;
        Some(Self { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_year_is_followed_back_by_the_year_before() {
        let year = Period::new(d("2026-01-01"), d("2026-12-31")).unwrap();
        assert_eq!(year.days(), 365);
        assert_eq!(year.start().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(
            year.end().unwrap().to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
        assert_eq!(
            year.previous(),
            Some(Period {
                from: d("2025-01-01"),
                to: d("2025-12-31")
            })
        );
    }

    #[test]
    fn the_previous_period_has_as_many_days_across_a_leap_day() {
        // 1 March to 31 March 2024: 31 days; before it, 30 January to 29 February.
        let march = Period::new(d("2024-03-01"), d("2024-03-31")).unwrap();
        let before = march.previous().unwrap();
        assert_eq!(before.days(), 31);
        assert_eq!(before.from, d("2024-01-30"));
        assert_eq!(before.to, d("2024-02-29"));
        // One day: the day before.
        let day = Period::new(d("2026-03-01"), d("2026-03-01")).unwrap();
        assert_eq!(day.days(), 1);
        assert_eq!(
            day.previous().unwrap(),
            Period {
                from: d("2026-02-28"),
                to: d("2026-02-28")
            }
        );
    }

    #[test]
    fn a_reversed_or_endless_period_is_refused() {
        assert_eq!(
            Period::new(d("2026-02-01"), d("2026-01-31")),
            Err(PeriodError::Reversed)
        );
        assert_eq!(
            Period::new(d("1990-01-01"), d("2026-01-01")),
            Err(PeriodError::TooLong)
        );
        assert_eq!(
            Period::new(NaiveDate::MAX, NaiveDate::MAX),
            Err(PeriodError::OutOfRange)
        );
    }
}
