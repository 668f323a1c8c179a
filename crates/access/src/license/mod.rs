//! Licenses (guide 3.3.1–3.3.2, 7.4.1): the installation id, signed license
//! files and the key files of `twp license keygen|sign|inspect`. Seat
//! accounting lives in the authorization engine, which sees the grants.

mod date;
mod file;
mod installation;
mod keys;

pub use date::Date;
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use file::{
    HEADER, Inspection, License, LicenseBody, LicenseError, LicenseFile, SignatureStatus, inspect,
    sign, verify,
};
pub use installation::{InstallationError, InstallationId, InstallationSeed};
pub use keys::{keygen, parse_public_key, parse_secret_key, public_key_text, secret_key_text};
