//! Ed25519 key files for license signing: one line of header, one of base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};

use super::file::LicenseError;

const SECRET_HEADER: &str = "TWP LICENSE SECRET KEY";
const PUBLIC_HEADER: &str = "TWP LICENSE PUBLIC KEY";

/// A new signing key from the operating system's random source.
pub fn keygen() -> Result<SigningKey, LicenseError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| LicenseError::Key(format!("no random source: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The secret key file's text (keep it off the server).
pub fn secret_key_text(key: &SigningKey) -> String {
    format!("{SECRET_HEADER}\n{}\n", STANDARD.encode(key.to_bytes()))
}

/// The public key file's text (installed on servers as a trusted key).
pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("{PUBLIC_HEADER}\n{}\n", STANDARD.encode(key.to_bytes()))
}

fn key_bytes(text: &str, header: &str) -> Result<[u8; 32], LicenseError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some(header) {
        return Err(LicenseError::Key(format!("first line must be {header:?}")));
    }
    let b64 = lines
        .next()
        .ok_or_else(|| LicenseError::Key("key line missing".into()))?;
    if lines.next().is_some() {
        return Err(LicenseError::Key("text after the key line".into()));
    }
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| LicenseError::Key("key is not base64".into()))?;
    bytes
        .try_into()
        .map_err(|_| LicenseError::Key("key is not 32 bytes".into()))
}

pub fn parse_secret_key(text: &str) -> Result<SigningKey, LicenseError> {
    Ok(SigningKey::from_bytes(&key_bytes(text, SECRET_HEADER)?))
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, LicenseError> {
    VerifyingKey::from_bytes(&key_bytes(text, PUBLIC_HEADER)?)
        .map_err(|_| LicenseError::Key("not a valid Ed25519 public key".into()))
}
