//! The license file: a readable `key: value` body and a signature line.
//!
//! ```text
//! TWP LICENSE 1
//! customer: ACME SA
//! installation: 7QH2KC-0M4XRT-9D2F1A-BB3E8W
//! expires: 2027-12-31
//! seats.caller: 100
//! seats.alerter: 10
//! signature: <base64 of the Ed25519 signature of every line above>
//! ```
//!
//! The signature covers the non-blank body lines, trailing white space
//! removed, each followed by `\n`: an editor that changes line endings or
//! blank lines does not break it. Lines starting with `#` are comments,
//! signed like the rest.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use thiserror::Error;

use super::date::Date;
use super::installation::InstallationId;
use crate::authz::{Application, SeatLimits};

pub const HEADER: &str = "TWP LICENSE 1";

/// What a license grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseBody {
    pub customer: String,
    pub installation: InstallationId,
    pub expires: Date,
    /// Seats per application, in [`Application::ALL`] order.
    pub seats: [u32; 8],
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LicenseError {
    #[error("license file, line {line}: {problem}")]
    Parse { line: usize, problem: String },
    #[error("license file: {0} is missing")]
    Missing(&'static str),
    #[error("license file has no signature line")]
    NoSignature,
    #[error(
        "license signature is not valid for any trusted key: the file was altered or signed by someone else"
    )]
    BadSignature,
    #[error("license is for installation {license}, this installation is {this}")]
    ForeignInstallation {
        license: InstallationId,
        this: InstallationId,
    },
    #[error("license expired on {expires} (today is {today})")]
    Expired { expires: Date, today: Date },
    #[error("key file: {0}")]
    Key(String),
}

impl LicenseBody {
    /// The body text to sign, in canonical order.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{HEADER}\ncustomer: {}\ninstallation: {}\nexpires: {}\n",
            self.customer, self.installation, self.expires
        );
        for app in Application::ALL {
            s.push_str(&format!(
                "seats.{}: {}\n",
                app.key(),
                self.seats[app.index()]
            ));
        }
        s
    }

    pub fn seats_of(&self, app: Application) -> u32 {
        self.seats[app.index()]
    }

    /// The engine's seat limits for this license.
    pub fn seat_limits(&self) -> SeatLimits {
        self.seats.map(Some)
    }
}

/// A parsed file: body, the exact signed bytes, and the signature if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseFile {
    pub body: LicenseBody,
    signed: String,
    signature: Option<Signature>,
}

impl LicenseFile {
    /// Parses a license file (with or without its signature line).
    pub fn parse(text: &str) -> Result<LicenseFile, LicenseError> {
        let err = |line: usize, problem: String| LicenseError::Parse { line, problem };
        let mut signed = String::new();
        let mut signature = None;
        let mut customer = None;
        let mut installation = None;
        let mut expires = None;
        let mut seats: [Option<u32>; 8] = [None; 8];
        let mut header_seen = false;
        for (n, raw) in text.split('\n').enumerate() {
            let line_no = n + 1;
            // Trailing white space (and `\r`) is not signed: editors add and
            // drop it freely.
            let line = raw.trim_end();
            if signature.is_some() {
                if line.trim().is_empty() {
                    continue;
                }
                return Err(err(line_no, "text after the signature line".into()));
            }
            if let Some(c) = line.chars().find(|c| c.is_control() && *c != '\t') {
                return Err(err(
                    line_no,
                    format!("control character U+{:04X}", u32::from(c)),
                ));
            }
            if !header_seen {
                if line.trim().is_empty() {
                    continue;
                }
                if line.trim() != HEADER {
                    return Err(err(line_no, format!("expected {HEADER:?}")));
                }
                header_seen = true;
                signed.push_str(line);
                signed.push('\n');
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with('#') {
                signed.push_str(line);
                signed.push('\n');
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(err(line_no, "expected `key: value`".into()));
            };
            let (key, value) = (key.trim(), value.trim());
            if key == "signature" {
                let bytes = STANDARD
                    .decode(value)
                    .map_err(|_| err(line_no, "signature is not base64".into()))?;
                let bytes: [u8; 64] = bytes
                    .try_into()
                    .map_err(|_| err(line_no, "signature is not 64 bytes".into()))?;
                signature = Some(Signature::from_bytes(&bytes));
                continue;
            }
            signed.push_str(line);
            signed.push('\n');
            let dup = || err(line_no, format!("{key} given twice"));
            match key {
                "customer" => {
                    if value.is_empty() {
                        return Err(err(line_no, "customer is empty".into()));
                    }
                    if customer.replace(value.to_owned()).is_some() {
                        return Err(dup());
                    }
                }
                "installation" => {
                    let id =
                        InstallationId::parse(value).map_err(|e| err(line_no, e.to_string()))?;
                    if installation.replace(id).is_some() {
                        return Err(dup());
                    }
                }
                "expires" => {
                    let d = Date::parse(value).ok_or_else(|| {
                        err(
                            line_no,
                            format!("expires {value:?} is not a date YYYY-MM-DD"),
                        )
                    })?;
                    if expires.replace(d).is_some() {
                        return Err(dup());
                    }
                }
                _ => {
                    let app = key
                        .strip_prefix("seats.")
                        .and_then(Application::from_key)
                        .ok_or_else(|| err(line_no, format!("unknown key {key:?}")))?;
                    let count: u32 = value.parse().map_err(|_| {
                        err(line_no, format!("{key}: {value:?} is not a seat count"))
                    })?;
                    if seats[app.index()].replace(count).is_some() {
                        return Err(dup());
                    }
                }
            }
        }
        if !header_seen {
            return Err(LicenseError::Missing(HEADER));
        }
        let body = LicenseBody {
            customer: customer.ok_or(LicenseError::Missing("customer"))?,
            installation: installation.ok_or(LicenseError::Missing("installation"))?,
            expires: expires.ok_or(LicenseError::Missing("expires"))?,
            seats: seats.map(|s| s.unwrap_or(0)),
        };
        Ok(LicenseFile {
            body,
            signed,
            signature,
        })
    }

    /// Index of the first trusted key the signature is valid for.
    pub fn signed_by(&self, trusted: &[VerifyingKey]) -> Option<usize> {
        let sig = self.signature.as_ref()?;
        trusted
            .iter()
            .position(|k| k.verify(self.signed.as_bytes(), sig).is_ok())
    }

    pub fn has_signature(&self) -> bool {
        self.signature.is_some()
    }
}

/// A license that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub body: LicenseBody,
    /// Index of the trusted key that signed it.
    pub key_index: usize,
}

/// Verifies a license file for this installation on `today`: signature by
/// one of the `trusted` keys, installation id, expiry (valid through the
/// `expires` day).
pub fn verify(
    text: &str,
    trusted: &[VerifyingKey],
    this: &InstallationId,
    today: Date,
) -> Result<License, LicenseError> {
    let file = LicenseFile::parse(text)?;
    if !file.has_signature() {
        return Err(LicenseError::NoSignature);
    }
    let key_index = file.signed_by(trusted).ok_or(LicenseError::BadSignature)?;
    if file.body.installation != *this {
        return Err(LicenseError::ForeignInstallation {
            license: file.body.installation,
            this: *this,
        });
    }
    if today > file.body.expires {
        return Err(LicenseError::Expired {
            expires: file.body.expires,
            today,
        });
    }
    Ok(License {
        body: file.body,
        key_index,
    })
}

/// Signs a body (a license file without signature; an existing signature
/// line is replaced) and returns the complete file text.
pub fn sign(body_text: &str, key: &SigningKey) -> Result<String, LicenseError> {
    let file = LicenseFile::parse(body_text)?;
    let signature = key.sign(file.signed.as_bytes());
    Ok(format!(
        "{}signature: {}\n",
        file.signed,
        STANDARD.encode(signature.to_bytes())
    ))
}

/// What `twp license inspect` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub body: LicenseBody,
    pub signature: SignatureStatus,
    pub expired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStatus {
    Missing,
    /// Valid for the trusted key at this index.
    ValidFor(usize),
    Invalid,
}

/// Reads a license file and tells whether its signature is valid for one
/// of `trusted`, without refusing anything.
pub fn inspect(
    text: &str,
    trusted: &[VerifyingKey],
    today: Date,
) -> Result<Inspection, LicenseError> {
    let file = LicenseFile::parse(text)?;
    let signature = match (file.has_signature(), file.signed_by(trusted)) {
        (false, _) => SignatureStatus::Missing,
        (true, Some(i)) => SignatureStatus::ValidFor(i),
        (true, None) => SignatureStatus::Invalid,
    };
    Ok(Inspection {
        expired: today > file.body.expires,
        body: file.body,
        signature,
    })
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.body;
        writeln!(f, "customer:     {}", b.customer)?;
        writeln!(f, "installation: {}", b.installation)?;
        writeln!(
            f,
            "expires:      {}{}",
            b.expires,
            if self.expired { " (EXPIRED)" } else { "" }
        )?;
        for app in Application::ALL {
            writeln!(f, "seats:        {:<16} {}", app.label(), b.seats_of(app))?;
        }
        match self.signature {
            SignatureStatus::Missing => writeln!(f, "signature:    missing"),
            SignatureStatus::ValidFor(i) => {
                writeln!(f, "signature:    valid (trusted key #{})", i + 1)
            }
            SignatureStatus::Invalid => writeln!(f, "signature:    INVALID for the given keys"),
        }
    }
}
