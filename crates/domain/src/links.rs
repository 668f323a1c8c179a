//! Links to the PBX of a domain (guide 3.3.3, 4.1–4.3): the CSTA link and
//! the supervision links, each with its address, capacity and the
//! Site.Cluster list it serves explicitly.

use std::fmt;
use std::str::FromStr;

use crate::{CompanyId, DomainId, FieldError, FieldErrors, validate_optional_text};

/// What a link is for (guide 4.1). A domain has at most one `Csta` link
/// and any number of `Supervision` links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkRole {
    /// The domain's CSTA link (call control, forwarding).
    Csta,
    /// A supervision link (monitors the devices of its sites).
    Supervision,
}

/// The protocol a link speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkProtocol {
    /// ECMA-323 CSTA XML over TCP.
    Csta,
    /// Aastra's VTI-XML: stored so a configuration can be described, but
    /// not available (no public specification).
    VtiXml,
}

/// How a link is opened once TCP is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LinkSession {
    /// ECMA-354 StartApplicationSession.
    #[default]
    ApplicationSession,
    /// ECMA-269 SystemRegister.
    SystemRegister,
    /// Nothing: monitors straight away.
    None,
}

macro_rules! token_enum {
    ($t:ident, $field:literal, $($v:ident => $s:literal),+) => {
        impl $t {
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
                    format!(concat!("unknown value '{}': use one of ", $(" ", $s),+), s),
                ))
            }
        }
    };
}

token_enum!(LinkRole, "role", Csta => "csta", Supervision => "supervision");
token_enum!(LinkProtocol, "protocol", Csta => "csta", VtiXml => "vti-xml");
token_enum!(LinkSession, "session", ApplicationSession => "application-session",
    SystemRegister => "system-register", None => "none");

/// The editable, non-secret settings of a link, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxLinkData {
    pub role: LinkRole,
    pub protocol: LinkProtocol,
    pub host: String,
    pub port: u16,
    /// Most devices the link may supervise ("Count", the LCI capacity).
    pub capacity: u32,
    /// Site.Cluster patterns served explicitly: `1.1`, `3.*`.
    pub sites: Vec<String>,
    pub session: LinkSession,
    /// The PBX type chosen in the guide's CSTA link form, free text.
    pub pbx_type: Option<String>,
    pub user_name: Option<String>,
    /// On the CSTA link: the device that places callback ("double call",
    /// guide 1.3.3) calls — it calls the user, then the customer, and
    /// joins them. Supervised with the domain's devices.
    pub callback_device: Option<String>,
    pub enabled: bool,
}

/// A stored link. Its password is never here: only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxLink {
    pub id: i64,
    pub company_id: CompanyId,
    pub domain_id: DomainId,
    pub data: PbxLinkData,
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Checks a Site.Cluster pattern: `site.cluster` or `site.*`, numbers.
pub fn validate_site_pattern(field: &str, s: &str) -> Result<(), FieldError> {
    let bad = || {
        FieldError::new(
            field,
            "invalid_site",
            format!(
                "'{s}' is not a Site.Cluster such as 1.1 or 3.* (site and cluster are numbers)"
            ),
        )
    };
    let (site, cluster) = s.split_once('.').ok_or_else(bad)?;
    let number = |t: &str| !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit());
    if number(site) && (cluster == "*" || number(cluster)) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Checks a device's own Site.Cluster (no wildcard).
pub fn validate_site(field: &str, s: &str) -> Result<(), FieldError> {
    validate_site_pattern(field, s)?;
    if s.ends_with(".*") {
        return Err(FieldError::new(
            field,
            "invalid_site",
            format!("'{s}': a device is on one cluster, write it as 1.1"),
        ));
    }
    Ok(())
}

impl PbxLinkData {
    /// Checks every field, collecting all the errors.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.host.trim().is_empty()
            || self.host.len() > 255
            || self.host.contains(char::is_whitespace)
        {
            errors.push(FieldError::new(
                "host",
                "invalid_host",
                "give the PBX's IP address or host name",
            ));
        }
        if self.port == 0 {
            errors.push(FieldError::new(
                "port",
                "out_of_range",
                "the port must be 1-65535",
            ));
        }
        if self.capacity == 0 || self.capacity > 1_000_000 {
            errors.push(FieldError::new(
                "capacity",
                "out_of_range",
                "the capacity is the number of devices the link may supervise, 1-1000000",
            ));
        }
        for (i, s) in self.sites.iter().enumerate() {
            if let Err(e) = validate_site_pattern(&format!("sites[{i}]"), s) {
                errors.push(e);
            }
        }
        if let Some(d) = &self.callback_device {
            if self.role != LinkRole::Csta {
                errors.push(FieldError::new(
                    "callbackDevice",
                    "not_allowed",
                    "only the domain's CSTA link carries the callback device",
                ));
            }
            if let Err(e) = crate::PhoneNumber::parse("callbackDevice", d, false) {
                errors.push(e);
            }
        }
        for (field, v) in [("pbxType", &self.pbx_type), ("userName", &self.user_name)] {
            if let Err(e) = validate_optional_text(field, v.as_deref(), 100) {
                errors.push(e);
            }
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> PbxLinkData {
        PbxLinkData {
            role: LinkRole::Supervision,
            protocol: LinkProtocol::Csta,
            host: "192.0.2.10".into(),
            port: 3211,
            capacity: 500,
            sites: vec!["1.1".into(), "3.*".into()],
            session: LinkSession::ApplicationSession,
            pbx_type: None,
            user_name: None,
            callback_device: None,
            enabled: true,
        }
    }

    #[test]
    fn tokens_round_trip_and_unknown_values_name_the_field() {
        for r in [LinkRole::Csta, LinkRole::Supervision] {
            assert_eq!(r.as_str().parse::<LinkRole>().unwrap(), r);
        }
        assert_eq!(
            "VTI-XML".parse::<LinkProtocol>().unwrap(),
            LinkProtocol::VtiXml
        );
        let e = "h323".parse::<LinkProtocol>().unwrap_err();
        assert_eq!(e.field, "protocol");
        assert!(e.message.contains("vti-xml"), "{}", e.message);
        assert_eq!("none".parse::<LinkSession>().unwrap(), LinkSession::None);
    }

    #[test]
    fn sites_are_checked() {
        assert!(link().validate().is_ok());
        for bad in ["1", "a.1", "1.", ".1", "*.1", "1.1.1", "1.x"] {
            assert!(validate_site_pattern("s", bad).is_err(), "{bad}");
        }
        assert!(validate_site("site", "3.*").is_err());
        assert!(validate_site("site", "3.2").is_ok());
        let mut l = link();
        l.sites.push("x".into());
        l.port = 0;
        l.capacity = 0;
        l.callback_device = Some("1x".into());
        let e = l.validate().unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "port",
                "capacity",
                "sites[2]",
                "callbackDevice",
                "callbackDevice"
            ]
        );
    }
}
