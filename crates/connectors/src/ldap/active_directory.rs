//! The Active Directory preset: LDAP settings and a mapping with AD's
//! usual attributes already filled in.

use twp_directory::{ContactField as F, Mapping, MappingError, Target as T};

use super::{LdapSettings, Security};
use crate::Secret;

/// Which AD attribute identifies a contact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdId {
    /// `objectGUID`: never changes, even when the account is renamed.
    #[default]
    ObjectGuid,
    /// `sAMAccountName`: the logon name, readable but renamable.
    SamAccountName,
}

impl LdapSettings {
    /// Settings for an Active Directory domain controller: people only
    /// (`(&(objectCategory=person)(objectClass=user))`), pages of 1000 (AD's
    /// MaxPageSize), LDAPS when `secure`.
    pub fn active_directory(
        host: &str,
        base_dn: &str,
        bind_name: &str,
        password: Secret,
        secure: bool,
    ) -> Self {
        Self {
            security: if secure {
                Security::Ldaps
            } else {
                Security::None
            },
            bind_name: bind_name.to_owned(),
            password,
            filter: Some("(&(objectCategory=person)(objectClass=user))".to_owned()),
            ..Self::new(host, base_dn)
        }
    }
}

/// The mapping of AD's usual attributes: names, company, department,
/// phones, e-mail, web page and address.
pub fn active_directory_mapping(id: AdId) -> Result<Mapping, MappingError> {
    let id = match id {
        AdId::ObjectGuid => "objectGUID",
        AdId::SamAccountName => "sAMAccountName",
    };
    Mapping::new(
        [
            (T::Field(F::Id), id),
            (T::Field(F::LastName), "sn"),
            (T::Field(F::FirstName), "givenName"),
            (T::Field(F::DisplayName), "displayName"),
            (T::Field(F::Company), "company"),
            (T::Field(F::Email1), "mail"),
            (T::Field(F::Work), "telephoneNumber"),
            (T::Field(F::Mobile), "mobile"),
            (T::Field(F::Home), "homePhone"),
            (T::Field(F::Url), "wWWHomePage"),
            (T::Field(F::Address), "streetAddress"),
        ],
        [],
    )
}

/// `objectGUID` as AD shows it: the first three groups are little-endian.
pub(crate) fn format_guid(b: &[u8; 16]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_in_microsoft_order() {
        let bytes = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(format_guid(&bytes), "00112233-4455-6677-8899-aabbccddeeff");
    }

    #[test]
    fn preset_maps_the_usual_attributes() {
        let m = active_directory_mapping(AdId::SamAccountName).unwrap();
        assert_eq!(m.source_fields()[0], "sAMAccountName");
        assert!(m.source_fields().iter().any(|f| f == "telephoneNumber"));
        let s = LdapSettings::active_directory("dc1", "dc=corp", "reader", "pw".into(), true);
        assert_eq!(s.port(), 636);
        assert!(!format!("{s:?}").contains("pw\""));
    }
}
