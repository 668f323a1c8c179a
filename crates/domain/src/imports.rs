//! Import links (guide 7.2): where users come from (LDAP, Active Directory,
//! the PBX's subscriber list "A5000 INT"), how source attributes map to TWP
//! user fields, the synchronisation type, the schedule and the deletion
//! safety share.

use std::fmt;
use std::str::FromStr;

use crate::{CompanyId, DomainId, FieldError, GroupId};

/// The source of an import (the guide's "Import type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportType {
    Ldap,
    ActiveDirectory,
    /// The PBX's own subscriber list, read through the domain's CSTA link.
    Pbx,
}

/// What a run may change (guide 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncType {
    /// Insert, update and delete.
    Full,
    /// Insert, update and disable.
    InsertUpdateDisable,
    /// Insert and update.
    InsertUpdate,
    /// Update the existing users only.
    UpdateOnly,
}

/// How an LDAP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ImportSecurity {
    #[default]
    None,
    Ldaps,
    StartTls,
}

/// A TWP user field a source attribute can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserField {
    UserName,
    FirstName,
    LastName,
    Email,
    Gsm,
    DeviceNumber,
    DeviceProtocol,
    Culture,
    /// The match key, stored in the user's `external_key`.
    ExternalKey,
}

macro_rules! tokens {
    ($t:ident, $field:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(Self::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                $(if s.eq_ignore_ascii_case($s) { return Ok(Self::$v); })+
                Err(FieldError::new(
                    $field,
                    "invalid_enum",
                    format!(concat!("unknown value '{}': use one of", $(" ", $s),+), s),
                ))
            }
        }
    };
}

tokens!(ImportType, "type", Ldap => "ldap", ActiveDirectory => "active-directory", Pbx => "pbx");
tokens!(SyncType, "syncType", Full => "full", InsertUpdateDisable => "insert-update-disable",
    InsertUpdate => "insert-update", UpdateOnly => "update-only");
tokens!(ImportSecurity, "security", None => "none", Ldaps => "ldaps", StartTls => "starttls");
tokens!(UserField, "mapping", UserName => "userName", FirstName => "firstName",
    LastName => "lastName", Email => "email", Gsm => "gsm", DeviceNumber => "deviceNumber",
    DeviceProtocol => "deviceProtocol", Culture => "culture", ExternalKey => "externalKey");

/// Source attribute per TWP field, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportMapping(pub Vec<(UserField, String)>);

impl ImportMapping {
    /// The attribute that fills `field`, if mapped.
    pub fn source(&self, field: UserField) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, a)| a.as_str())
    }

    /// Active Directory's usual attributes; the key is `objectGUID` (stable
    /// across renames) unless `by_dn`.
    pub fn active_directory(by_dn: bool) -> Self {
        use UserField::*;
        Self(
            [
                (UserName, "sAMAccountName"),
                (FirstName, "givenName"),
                (LastName, "sn"),
                (Email, "mail"),
                (DeviceNumber, "telephoneNumber"),
                (Gsm, "mobile"),
                (
                    ExternalKey,
                    if by_dn {
                        "distinguishedName"
                    } else {
                        "objectGUID"
                    },
                ),
            ]
            .into_iter()
            .map(|(f, a)| (f, a.to_owned()))
            .collect(),
        )
    }

    /// LDAP's (inetOrgPerson) usual attributes; the key is `entryUUID`
    /// (stable across renames) or `uid`.
    pub fn ldap(by_uid: bool) -> Self {
        use UserField::*;
        Self(
            [
                (UserName, "uid"),
                (FirstName, "givenName"),
                (LastName, "sn"),
                (Email, "mail"),
                (DeviceNumber, "telephoneNumber"),
                (Gsm, "mobile"),
                (ExternalKey, if by_uid { "uid" } else { "entryUUID" }),
            ]
            .into_iter()
            .map(|(f, a)| (f, a.to_owned()))
            .collect(),
        )
    }

    /// The PBX subscriber list's fields: `number` and `name`.
    pub fn pbx() -> Self {
        use UserField::*;
        Self(
            [
                (UserName, "number"),
                (LastName, "name"),
                (DeviceNumber, "number"),
                (ExternalKey, "number"),
            ]
            .into_iter()
            .map(|(f, a)| (f, a.to_owned()))
            .collect(),
        )
    }

    /// The preset of an import type.
    pub fn preset(t: ImportType) -> Self {
        match t {
            ImportType::Ldap => Self::ldap(false),
            ImportType::ActiveDirectory => Self::active_directory(false),
            ImportType::Pbx => Self::pbx(),
        }
    }
}

/// When an import runs by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportSchedule {
    /// Only when asked ("Synchro").
    #[default]
    Manual,
    /// Every day at this minute of the day (UTC).
    Daily { minute_of_day: u16 },
    /// Every this many minutes.
    Every { minutes: u32 },
}

impl ImportSchedule {
    /// Most minutes between two runs (one week).
    pub const MAX_INTERVAL: u32 = 7 * 24 * 60;

    /// When the next run is due (epoch ms), given the last run; an import
    /// that never ran counts from `after` (its creation).
    pub fn next_due(self, last_run: Option<i64>, after: i64) -> Option<i64> {
        const MIN: i64 = 60_000;
        const DAY: i64 = 24 * 60 * MIN;
        match self {
            Self::Manual => None,
            Self::Every { minutes } => Some(match last_run {
                None => after,
                Some(l) => l + i64::from(minutes) * MIN,
            }),
            Self::Daily { minute_of_day } => {
                let since = last_run.unwrap_or(after);
                let day = since.div_euclid(DAY) * DAY;
                let at = day + i64::from(minute_of_day) * MIN;
                Some(if at > since { at } else { at + DAY })
            }
        }
    }
}

/// Parses `HH:MM` (00:00 to 23:59) into a minute of the day.
pub fn parse_time_of_day(field: &str, raw: &str) -> Result<u16, FieldError> {
    let bad = || FieldError::new(field, "invalid_time", "must be HH:MM, 00:00 to 23:59");
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `HH:MM` of a minute of the day.
pub fn format_time_of_day(minute_of_day: u16) -> String {
    format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

/// The editable, non-secret settings of an import link, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserImportData {
    pub description: String,
    pub import_type: ImportType,
    pub domain_id: DomainId,
    pub group_id: Option<GroupId>,
    pub host: String,
    pub port: u16,
    pub security: ImportSecurity,
    pub bind_name: String,
    pub base_dn: String,
    pub filter: String,
    pub page_size: u32,
    pub mapping: ImportMapping,
    pub sync_type: SyncType,
    pub schedule: ImportSchedule,
    /// Most users a Full run may delete (percent of the import's users)
    /// before it asks for confirmation.
    pub delete_share_percent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserImport {
    pub id: i64,
    pub company_id: CompanyId,
    pub data: UserImportData,
    pub has_password: bool,
    pub last_run_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("t", "07:30"), Ok(450));
        assert_eq!(parse_time_of_day("t", "0:05"), Ok(5));
        for bad in [
            "24:00", "7:60", "7", "", "07:3", "+1:00", "07:30:00", "aa:bb",
        ] {
            assert!(parse_time_of_day("t", bad).is_err(), "{bad}");
        }
        assert_eq!(format_time_of_day(450), "07:30");
    }

    #[test]
    fn schedules_fall_due() {
        let min = 60_000;
        let day = 24 * 60 * min;
        let every = ImportSchedule::Every { minutes: 15 };
        assert_eq!(every.next_due(None, 5), Some(5));
        assert_eq!(every.next_due(Some(100), 0), Some(100 + 15 * min));
        let daily = ImportSchedule::Daily { minute_of_day: 60 };
        // never ran, now is 00:30 day 10: due at 01:00 day 10
        assert_eq!(
            daily.next_due(None, 10 * day + 30 * min),
            Some(10 * day + 60 * min)
        );
        // ran at 01:00 day 10: next is 01:00 day 11
        assert_eq!(
            daily.next_due(Some(10 * day + 60 * min), 0),
            Some(11 * day + 60 * min)
        );
        assert_eq!(ImportSchedule::Manual.next_due(None, 0), None);
    }

    #[test]
    fn tokens_round_trip() {
        for t in SyncType::ALL {
            assert_eq!(t.as_str().parse::<SyncType>(), Ok(*t));
        }
        for f in UserField::ALL {
            assert_eq!(f.as_str().parse::<UserField>(), Ok(*f));
        }
        assert_eq!(
            "bogus".parse::<SyncType>().unwrap_err().field,
            "syncType".to_owned()
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_valid_time_round_trips(m in 0u16..1440) {
            prop_assert_eq!(parse_time_of_day("t", &format_time_of_day(m)), Ok(m));
        }

        #[test]
        fn parsing_any_text_never_panics_and_stays_in_the_day(s in "\\PC{0,12}") {
            if let Ok(m) = parse_time_of_day("t", &s) {
                prop_assert!(m < 1440);
            }
        }

        #[test]
        fn next_run_is_after_the_last(last in 0i64..4_000_000_000_000, minute in 0u16..1440, every in 1u32..10_080) {
            for s in [ImportSchedule::Daily { minute_of_day: minute }, ImportSchedule::Every { minutes: every }] {
                let due = s.next_due(Some(last), 0).unwrap();
                prop_assert!(due > last);
                prop_assert!(due - last <= 7 * 24 * 3_600_000);
            }
        }
    }
}
