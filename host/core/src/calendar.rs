//! Calendar dates in the collectivité's time zone.
//!
//! Instants are stored in UTC; every calendar date a person sees or a rule
//! uses is read in the collectivité's [`Zone`] (`Europe/Paris` by default;
//! `Indian/Reunion`, `America/Guadeloupe`… overseas): the open period of a
//! démarche (both days included, from local midnight to local midnight),
//! `today` in field rules, the dates written in histories and
//! notifications, deadlines and every delay counted in days or months
//! (reminders at 15 and 21 days, the 27-day deadline, archiving,
//! anonymisation after 12 or 24 months). Delays are calendar delays in local
//! time: 27 days after 20 March 23:30 is 16 April 23:30, whatever the
//! daylight-saving change in between; 12 months after 1 March 2027 is
//! 1 March 2028, not 29 February.
//!
//! The rules of time zones and daylight saving come from the IANA database
//! through the `chrono-tz` crate, never from fixed offsets. The zone is
//! configured by the host and passed to the core beside "now".

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Days, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The collectivité's time zone (an IANA name such as `Europe/Paris`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// A name that is not an IANA time zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "fuseau horaire inconnu « {0} » : indiquez un nom de la base IANA, par exemple \
     Europe/Paris, Indian/Reunion, America/Guadeloupe ou Pacific/Noumea"
)]
pub struct UnknownZone(pub String);

impl Zone {
    /// Metropolitan France, the default.
    pub const PARIS: Zone = Zone(Tz::Europe__Paris);

    /// The zone of an IANA name (`Europe/Paris`, `Indian/Reunion`).
    ///
    /// # Errors
    /// [`UnknownZone`] when the name is not in the IANA database.
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        name.trim()
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| UnknownZone(name.to_owned()))
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// An instant in local time.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<Tz> {
        instant.with_timezone(&self.0)
    }

    /// The local calendar date of an instant.
    pub fn today(self, instant: DateTime<Utc>) -> NaiveDate {
        self.local(instant).date_naive()
    }

    /// The local date of an instant as people read it (`16/04/2026`).
    pub fn date_text(self, instant: DateTime<Utc>) -> String {
        self.today(instant).format("%d/%m/%Y").to_string()
    }

    /// The first instant of a local day (local midnight, or the end of the
    /// daylight-saving gap where midnight does not exist).
    pub fn day_start(self, date: NaiveDate) -> DateTime<Utc> {
        self.resolve(date.and_time(chrono::NaiveTime::MIN))
    }

    /// `days` calendar days after `instant`, at the same local time of day.
    pub fn add_days(self, instant: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = self.local(instant).naive_local();
        local
            .checked_add_days(Days::new(u64::from(days)))
            .map_or(DateTime::<Utc>::MAX_UTC, |later| self.resolve(later))
    }

    /// `months` calendar months after `instant`, at the same local time of
    /// day; the last day of a shorter month when the day does not exist
    /// (29 February + 12 months is 28 February).
    pub fn add_months(self, instant: DateTime<Utc>, months: u32) -> DateTime<Utc> {
        let local = self.local(instant).naive_local();
        local
            .checked_add_months(Months::new(months))
            .map_or(DateTime::<Utc>::MAX_UTC, |later| self.resolve(later))
    }

    /// The instant of a local date and time: the earlier one when the time
    /// happens twice (autumn), the first valid one after a spring gap.
    fn resolve(self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut candidate = local;
        // Gaps last at most a few hours (one in France); look a day ahead.
        for _ in 0..(24 * 4) {
            match self.0.from_local_datetime(&candidate) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                    return at.with_timezone(&Utc);
                }
                LocalResult::None => candidate += Duration::minutes(15),
            }
        }
        local.and_utc()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::PARIS
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Zone {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Zone::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn zones_are_read_from_iana_names() {
        assert_eq!(Zone::parse("Europe/Paris"), Ok(Zone::PARIS));
        assert_eq!(
            Zone::parse("Indian/Reunion").unwrap().name(),
            "Indian/Reunion"
        );
        assert_eq!(Zone::default(), Zone::PARIS);
        let error = Zone::parse("Europe/Marseille").unwrap_err();
        assert!(
            error.to_string().contains("fuseau horaire inconnu"),
            "{error}"
        );
        assert!(Zone::parse("+01:00").is_err());
    }

    #[test]
    fn the_local_date_is_read_in_the_zone() {
        let new_year = utc(2025, 12, 31, 23, 30);
        assert_eq!(
            Zone::PARIS.today(new_year),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
        let reunion = Zone::parse("Indian/Reunion").unwrap();
        assert_eq!(reunion.date_text(utc(2026, 6, 30, 20, 30)), "01/07/2026");
        let guadeloupe = Zone::parse("America/Guadeloupe").unwrap();
        assert_eq!(guadeloupe.date_text(utc(2026, 7, 1, 2, 0)), "30/06/2026");
    }

    #[test]
    fn days_are_calendar_days_across_daylight_saving() {
        // 20 March 2026 23:30 in Paris (CET) is 22:30 UTC; 27 days later
        // is 16 April 23:30 CEST, 21:30 UTC.
        let start = utc(2026, 3, 20, 22, 30);
        let due = Zone::PARIS.add_days(start, 27);
        assert_eq!(due, utc(2026, 4, 16, 21, 30));
        assert_eq!(Zone::PARIS.date_text(due), "16/04/2026");
        // And back in autumn.
        let start = utc(2026, 10, 10, 22, 30);
        assert_eq!(Zone::PARIS.add_days(start, 21), utc(2026, 10, 31, 23, 30));
    }

    #[test]
    fn months_are_calendar_months() {
        let zone = Zone::PARIS;
        assert_eq!(
            zone.today(zone.add_months(utc(2027, 3, 1, 9, 0), 12)),
            NaiveDate::from_ymd_opt(2028, 3, 1).unwrap()
        );
        assert_eq!(
            zone.today(zone.add_months(utc(2028, 2, 29, 9, 0), 12)),
            NaiveDate::from_ymd_opt(2029, 2, 28).unwrap()
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_to_its_end() {
        // 29 March 2026: 02:00 → 03:00 in Paris.
        let before = utc(2026, 3, 28, 1, 30); // 28 March 02:30 CET
        assert_eq!(Zone::PARIS.add_days(before, 1), utc(2026, 3, 29, 1, 0));
        assert_eq!(
            Zone::PARIS.day_start(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()),
            utc(2026, 3, 28, 23, 0)
        );
    }
}
