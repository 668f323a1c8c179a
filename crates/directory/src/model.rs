//! The guide's vocabulary for directories (8.1): directory type, priority,
//! TWP contact fields, and the specific fields (VIP, red list).

use std::fmt;

/// A directory's identifier (the store's row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectoryId(pub i64);

impl fmt::Display for DirectoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Directory type (guide 8.1, Connector tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryType {
    /// Sample / Draft: disabled, never synchronised nor searched.
    Draft,
    /// TWP: a public directory.
    Public,
    /// Private: a private directory (who sees it is an authorization matter).
    Private,
}

impl DirectoryType {
    /// Whether the directory is synchronised and answers queries.
    pub fn is_enabled(self) -> bool {
        !matches!(self, Self::Draft)
    }
}

macro_rules! contact_fields {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// A TWP contact field, target of a directory's field mapping.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum ContactField {
            $( $(#[$doc])* $variant ),*
        }

        impl ContactField {
            /// Every field, in declaration order.
            pub const ALL: &'static [ContactField] = &[$(ContactField::$variant),*];

            /// The field's name as written in mappings and APIs (camelCase).
            pub fn name(self) -> &'static str {
                match self { $(ContactField::$variant => $name),* }
            }
        }
    };
}

contact_fields! {
    /// The contact's identifier in its source: the key of synchronisation.
    Id = "id",
    /// Last name (surname).
    LastName = "lastName",
    /// First name (given name).
    FirstName = "firstName",
    /// Display name.
    DisplayName = "displayName",
    /// Company.
    Company = "company",
    /// URL of the contact's picture.
    PictureUrl = "pictureUrl",
    /// Name of the contact's assistant.
    Assistant = "assistant",
    /// Assistant's phone number.
    AssistantPhone = "assistantPhone",
    /// Standard (switchboard) number.
    Standard = "standardPhone",
    /// Work phone number.
    Work = "workPhone",
    /// Mobile phone number.
    Mobile = "mobilePhone",
    /// Home phone number.
    Home = "homePhone",
    /// First e-mail address (merging key, 8.2.2).
    Email1 = "email1",
    /// Second e-mail address.
    Email2 = "email2",
    /// Third e-mail address.
    Email3 = "email3",
    /// Web address.
    Url = "url",
    /// Postal address.
    Address = "address",
    /// Private field 0 (named by the administrator).
    Custom0 = "custom0",
    /// Private field 1.
    Custom1 = "custom1",
    /// Private field 2.
    Custom2 = "custom2",
    /// Private field 3.
    Custom3 = "custom3",
    /// Private field 4.
    Custom4 = "custom4",
    /// Private field 5.
    Custom5 = "custom5",
    /// Private field 6.
    Custom6 = "custom6",
    /// Private field 7.
    Custom7 = "custom7",
    /// Private field 8.
    Custom8 = "custom8",
    /// Private field 9.
    Custom9 = "custom9",
}

impl ContactField {
    /// The phone number fields, indexed for the reverse look-up.
    pub const PHONES: &'static [ContactField] = &[
        ContactField::Work,
        ContactField::Mobile,
        ContactField::Home,
        ContactField::AssistantPhone,
        ContactField::Standard,
    ];

    /// The e-mail fields (merging keys).
    pub const EMAILS: &'static [ContactField] = &[
        ContactField::Email1,
        ContactField::Email2,
        ContactField::Email3,
    ];

    /// The field of that name (camelCase, case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The private field `CustomN`, `n` in 0..=9.
    pub fn custom(n: u8) -> Option<Self> {
        let all = Self::ALL;
        let first = Self::Custom0 as usize;
        (n <= 9).then(|| all[first + usize::from(n)])
    }

    /// Whether this is a phone number field.
    pub fn is_phone(self) -> bool {
        Self::PHONES.contains(&self)
    }

    /// Bit of this phone field in a red-list mask (`None` for other fields).
    pub fn phone_bit(self) -> Option<u8> {
        Self::PHONES
            .iter()
            .position(|f| *f == self)
            .map(|i| 1u8 << i)
    }

    /// Rank of a phone field when several contacts of one directory share a
    /// number: a personal line wins over the switchboard.
    pub(crate) fn phone_rank(self) -> u8 {
        Self::PHONES
            .iter()
            .position(|f| *f == self)
            .map_or(u8::MAX, |i| i as u8)
    }
}

impl fmt::Display for ContactField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Red-list values (8.2.4): the number is hidden, the name kept.
pub fn is_red_list_value(value: &str) -> bool {
    const HIDE: [&str; 6] = ["1", "true", "yes", "y", "lr", "rf"];
    let v = value.trim();
    HIDE.iter().any(|h| h.eq_ignore_ascii_case(v))
}

/// The name that makes a private field the VIP field (8.2.3).
pub const VIP_FIELD_NAME: &str = "[VIP]";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_list_values_of_the_guide() {
        for v in [
            "1", "true", "yes", "y", "lr", "rf", " TRUE ", "Y", "LR", "Rf",
        ] {
            assert!(is_red_list_value(v), "{v}");
        }
        for v in ["0", "", "false", "no", "n", "2", "yes please", "red"] {
            assert!(!is_red_list_value(v), "{v}");
        }
    }

    #[test]
    fn field_names_and_bits() {
        for f in ContactField::ALL {
            assert_eq!(ContactField::from_name(f.name()), Some(*f));
        }
        assert_eq!(
            ContactField::from_name("LASTNAME"),
            Some(ContactField::LastName)
        );
        assert_eq!(ContactField::custom(9), Some(ContactField::Custom9));
        assert_eq!(ContactField::custom(10), None);
        let bits: Vec<u8> = ContactField::PHONES
            .iter()
            .filter_map(|f| f.phone_bit())
            .collect();
        assert_eq!(bits, [1, 2, 4, 8, 16]);
        assert_eq!(ContactField::Email1.phone_bit(), None);
        assert!(ContactField::Mobile.phone_rank() < ContactField::Standard.phone_rank());
    }
}
