use std::fmt;
use std::str::FromStr;

use crate::FieldError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A company: completely independent of every other (guide 3.1).
    CompanyId
);
id_type!(
    /// A domain: users of one company sharing one PBX and mail system (3.1).
    DomainId
);
id_type!(
    /// A TWP user, member of exactly one domain (3.3.4).
    UserId
);
id_type!(
    /// A group of users of one domain (3.3.5, 7.3).
    GroupId
);

/// The longest internal number a numbering plan may declare; longer numbers
/// are external in every country's plan.
pub const NUMBERING_PLAN_MAX: i64 = 15;

/// How TWP talks to a device's PBX (guide 3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceProtocol {
    Csta,
    VtiXml,
    Sip,
}

impl DeviceProtocol {
    pub const ALL: [DeviceProtocol; 3] = [Self::Csta, Self::VtiXml, Self::Sip];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csta => "CSTA",
            Self::VtiXml => "VTIXML",
            Self::Sip => "SIP",
        }
    }
}

impl FromStr for DeviceProtocol {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s.to_ascii_uppercase().replace('-', "").as_str() {
            "CSTA" => Ok(Self::Csta),
            "VTIXML" => Ok(Self::VtiXml),
            "SIP" => Ok(Self::Sip),
            _ => Err(FieldError::new(
                "protocol",
                "invalid_enum",
                format!("unknown protocol '{s}': use CSTA, VTIXML or SIP"),
            )),
        }
    }
}

/// DTMF signalling of a SIP soft phone (guide 9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfMethod {
    Rfc2833,
    SipInfo,
}

impl DtmfMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfc2833 => "RFC2833",
            Self::SipInfo => "SIPINFO",
        }
    }
}

impl FromStr for DtmfMethod {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s.to_ascii_uppercase().as_str() {
            "RFC2833" => Ok(Self::Rfc2833),
            "SIPINFO" => Ok(Self::SipInfo),
            _ => Err(FieldError::new(
                "dtmfMethod",
                "invalid_enum",
                format!("unknown DTMF method '{s}': use RFC2833 or SIPINFO"),
            )),
        }
    }
}

/// What an administrator may manage (guide 10.1): every company ("Super
/// User") or a list of companies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminScope {
    SuperUser,
    Companies(Vec<CompanyId>),
}

impl AdminScope {
    pub fn allows(&self, company: CompanyId) -> bool {
        match self {
            Self::SuperUser => true,
            Self::Companies(list) => list.contains(&company),
        }
    }

    pub fn is_super_user(&self) -> bool {
        matches!(self, Self::SuperUser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_in_the_guides_spelling() {
        assert_eq!(
            "CSTA".parse::<DeviceProtocol>().unwrap(),
            DeviceProtocol::Csta
        );
        assert_eq!(
            "vti-xml".parse::<DeviceProtocol>().unwrap(),
            DeviceProtocol::VtiXml
        );
        assert_eq!(
            "VTIXML".parse::<DeviceProtocol>().unwrap(),
            DeviceProtocol::VtiXml
        );
        assert!("H323".parse::<DeviceProtocol>().is_err());
        for p in DeviceProtocol::ALL {
            assert_eq!(p.as_str().parse::<DeviceProtocol>().unwrap(), p);
        }
    }

    #[test]
    fn scoped_admins_only_reach_their_companies() {
        let scope = AdminScope::Companies(vec![CompanyId(1)]);
        assert!(scope.allows(CompanyId(1)));
        assert!(!scope.allows(CompanyId(2)));
        assert!(AdminScope::SuperUser.allows(CompanyId(2)));
    }
}
