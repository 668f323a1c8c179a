//! One source entry → one TWP user (and its device), validated with the
//! same field rules as the API; an entry that cannot become a user is
//! ignored with the field and the reason (guide 7.2.3: users without a
//! telephone number are ignored).

use twp_directory::SourceRecord;
use twp_domain::{
    Culture, DeviceProtocol, Email, ImportMapping, Name, PhoneNumber, UserField,
    validate_optional_text,
};
use twp_store::user_sync::ImportedDevice;

/// Longest names and keys, as the API accepts them.
const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 200;

/// A source entry as a TWP user: only the mapped fields are `Some`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUser {
    /// The match key (`external_key`).
    pub key: String,
    pub user_name: String,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub gsm: Option<Option<String>>,
    pub culture: Option<Option<String>>,
    pub device: ImportedDevice,
}

/// Why an entry was ignored: the TWP field concerned and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub field: &'static str,
    pub reason: String,
    /// The entry's key when it could be read: its user is still in the
    /// source, so a run never deletes it for a bad field.
    pub key: Option<String>,
    /// The user name when it could be read, for the report.
    pub user_name: Option<String>,
}

/// The mapping compiled against the fields asked of the source.
#[derive(Debug, Clone)]
pub struct Mapper {
    /// Distinct source attributes, in the order the stream carries them.
    fields: Vec<String>,
    /// For each TWP field, its attribute's index in `fields`.
    slots: Vec<(UserField, usize)>,
}

/// The TWP fields every mapping must give.
pub const REQUIRED: [UserField; 3] = [
    UserField::ExternalKey,
    UserField::UserName,
    UserField::DeviceNumber,
];

impl Mapper {
    /// Compiles `mapping`; `Err` names the first required field missing.
    pub fn new(mapping: &ImportMapping) -> Result<Self, UserField> {
        if let Some(f) = REQUIRED.iter().find(|f| mapping.source(**f).is_none()) {
            return Err(*f);
        }
        let mut fields: Vec<String> = Vec::new();
        let mut slots = Vec::new();
        for (f, attr) in &mapping.0 {
            let i = match fields.iter().position(|a| a.eq_ignore_ascii_case(attr)) {
                Some(i) => i,
                None => {
                    fields.push(attr.clone());
                    fields.len() - 1
                }
            };
            slots.push((*f, i));
        }
        Ok(Self { fields, slots })
    }

    /// The source attributes to read.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    fn value<'r>(&self, r: &'r SourceRecord, f: UserField) -> Option<Option<&'r str>> {
        self.slots
            .iter()
            .find(|(g, _)| *g == f)
            .map(|(_, i)| r.get(*i))
    }

    /// Maps one record.
    pub fn map(&self, r: &SourceRecord) -> Result<SourceUser, Rejected> {
        let mut user = self.map_inner(r);
        if let Err(e) = &mut user {
            e.key = self
                .value(r, UserField::ExternalKey)
                .flatten()
                .filter(|k| Name::parse("externalKey", k, TEXT_MAX).is_ok())
                .map(|k| k.trim().to_owned());
            e.user_name = self
                .value(r, UserField::UserName)
                .flatten()
                .map(|n| n.trim().to_owned());
        }
        user
    }

    fn map_inner(&self, r: &SourceRecord) -> Result<SourceUser, Rejected> {
        let reject = |field: &'static str, reason: String| Rejected {
            field,
            reason,
            key: None,
            user_name: None,
        };
        let attr = |f: UserField| {
            self.slots
                .iter()
                .find(|(g, _)| *g == f)
                .map(|(_, i)| self.fields[*i].as_str())
                .unwrap_or("")
        };
        let key = self
            .value(r, UserField::ExternalKey)
            .flatten()
            .ok_or_else(|| {
                reject(
                    "externalKey",
                    format!(
                        "no key: the attribute {} is missing",
                        attr(UserField::ExternalKey)
                    ),
                )
            })?;
        let key = Name::parse("externalKey", key, TEXT_MAX)
            .map_err(|e| reject("externalKey", e.message))?
            .into_string();
        let number = self
            .value(r, UserField::DeviceNumber)
            .flatten()
            .ok_or_else(|| {
                reject(
                    "deviceNumber",
                    format!(
                        "no telephone number: the attribute {} is missing",
                        attr(UserField::DeviceNumber)
                    ),
                )
            })?;
        let number = PhoneNumber::parse("deviceNumber", number, true)
            .map_err(|e| reject("deviceNumber", format!("{number:?} {}", e.message)))?
            .into_string();
        let user_name = self
            .value(r, UserField::UserName)
            .flatten()
            .ok_or_else(|| {
                reject(
                    "userName",
                    format!(
                        "no user name: the attribute {} is missing",
                        attr(UserField::UserName)
                    ),
                )
            })?;
        let user_name = Name::parse("userName", user_name, NAME_MAX)
            .map_err(|e| reject("userName", e.message))?
            .into_string();
        let protocol = match self.value(r, UserField::DeviceProtocol).flatten() {
            None => DeviceProtocol::Csta,
            Some(p) => p
                .parse::<DeviceProtocol>()
                .map_err(|e| reject("deviceProtocol", e.message))?,
        };
        let text = |f: UserField, name: &'static str| -> Result<Option<Option<String>>, Rejected> {
            match self.value(r, f) {
                None => Ok(None),
                Some(v) => validate_optional_text(name, v, NAME_MAX)
                    .map(Some)
                    .map_err(|e| reject(name, e.message)),
            }
        };
        let email = match self.value(r, UserField::Email) {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => Some(Some(
                Email::parse("email", v)
                    .map_err(|e| reject("email", format!("{v:?} {}", e.message)))?
                    .into_string(),
            )),
        };
        let gsm = match self.value(r, UserField::Gsm) {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => Some(Some(
                PhoneNumber::parse("gsm", v, true)
                    .map_err(|e| reject("gsm", format!("{v:?} {}", e.message)))?
                    .into_string(),
            )),
        };
        let culture = match self.value(r, UserField::Culture) {
            None => None,
            Some(None) => Some(None),
            Some(Some(v)) => Some(Some(
                Culture::parse("culture", v)
                    .map_err(|e| reject("culture", e.message))?
                    .into_string(),
            )),
        };
        Ok(SourceUser {
            key,
            user_name,
            first_name: text(UserField::FirstName, "firstName")?,
            last_name: text(UserField::LastName, "lastName")?,
            email,
            gsm,
            culture,
            device: ImportedDevice { number, protocol },
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use twp_directory::Location;

    use super::*;

    fn record(m: &Mapper, values: &[(&str, &str)]) -> SourceRecord {
        let mut r = SourceRecord::new(m.fields().len());
        r.reset(Location::Dn("uid=x".into()));
        for (attr, v) in values {
            let i = m.fields().iter().position(|f| f == attr).unwrap();
            r.set(i, v);
        }
        r
    }

    #[test]
    fn maps_and_rejects_naming_the_field() {
        let m = Mapper::new(&ImportMapping::ldap(true)).unwrap();
        // uid is both the user name and the key: read once
        assert_eq!(m.fields().iter().filter(|f| *f == "uid").count(), 1);
        let ok = m
            .map(&record(
                &m,
                &[
                    ("uid", "jdupont"),
                    ("sn", "Dupont"),
                    ("mail", "j@x.fr"),
                    ("telephoneNumber", "+33 1 23 45 67 89"),
                ],
            ))
            .unwrap();
        assert_eq!(ok.key, "jdupont");
        assert_eq!(ok.device.number, "+33123456789");
        assert_eq!(ok.last_name, Some(Some("Dupont".into())));
        assert_eq!(ok.first_name, Some(None));
        assert_eq!(ok.culture, None);
        let no_number = m.map(&record(&m, &[("uid", "a")])).unwrap_err();
        assert_eq!(no_number.field, "deviceNumber");
        assert!(
            no_number.reason.contains("no telephone number"),
            "{}",
            no_number.reason
        );
        let bad_mail = m
            .map(&record(
                &m,
                &[("uid", "a"), ("telephoneNumber", "1000"), ("mail", "nope")],
            ))
            .unwrap_err();
        assert_eq!(bad_mail.field, "email");
        let no_key = m
            .map(&record(&m, &[("telephoneNumber", "1000")]))
            .unwrap_err();
        assert_eq!(no_key.field, "externalKey");
        let mut without_number = ImportMapping::ldap(true);
        without_number
            .0
            .retain(|(f, _)| *f != UserField::DeviceNumber);
        assert_eq!(
            Mapper::new(&without_number).unwrap_err(),
            UserField::DeviceNumber
        );
    }

    proptest! {
        #[test]
        fn any_values_map_or_are_rejected_without_panic(
            values in proptest::collection::vec("\\PC{0,24}", 7)
        ) {
            let m = Mapper::new(&ImportMapping::ldap(false)).unwrap();
            let mut r = SourceRecord::new(m.fields().len());
            r.reset(Location::Dn("uid=x".into()));
            for (i, v) in values.iter().enumerate() {
                r.set(i, v);
            }
            if let Ok(u) = m.map(&r) {
                prop_assert!(!u.key.is_empty());
                prop_assert!(u.device.number.trim_start_matches(['+', '*', '#']).bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
