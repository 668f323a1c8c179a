//! The installation id (the guide's "Dongle id", 3.3.1): derived from a
//! random seed generated once and stored by the server, so it survives
//! hardware and MAC changes (the guide's virtual-machine caveat).

use std::fmt;

use sha2::{Digest, Sha256};
use thiserror::Error;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ID_BYTES: usize = 15;
const ID_CHARS: usize = 24;

/// The random value the id derives from (32 bytes), kept by the server.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallationSeed([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstallationError {
    #[error("no random source: {0}")]
    Random(String),
    #[error("installation seed: expected 64 hex digits")]
    BadSeed,
    #[error(
        "installation id {0:?}: expected 24 characters of 0-9 A-Z (no I, L, O, U), in groups of 6"
    )]
    BadId(String),
}

impl InstallationSeed {
    pub fn generate() -> Result<InstallationSeed, InstallationError> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).map_err(|e| InstallationError::Random(e.to_string()))?;
        Ok(InstallationSeed(b))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> InstallationSeed {
        InstallationSeed(bytes)
    }

    /// Hex, for the server's storage.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Result<InstallationSeed, InstallationError> {
        let s = s.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InstallationError::BadSeed);
        }
        let mut b = [0u8; 32];
        for (i, out) in b.iter_mut().enumerate() {
            *out = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
                .map_err(|_| InstallationError::BadSeed)?;
        }
        Ok(InstallationSeed(b))
    }

    pub fn installation_id(&self) -> InstallationId {
        let digest = Sha256::new()
            .chain_update(b"TWP installation id v1")
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; ID_BYTES];
        id.copy_from_slice(&digest[..ID_BYTES]);
        InstallationId(id)
    }
}

impl fmt::Debug for InstallationSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallationSeed(..)")
    }
}

/// 120 bits, printed as Crockford base32 in four groups of six:
/// `7QH2KC-0M4XRT-…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstallationId([u8; ID_BYTES]);

impl InstallationId {
    /// Parses the printed form; any case, dashes and spaces ignored, and
    /// I/L read as 1, O as 0 (the look-alikes people type).
    pub fn parse(s: &str) -> Result<InstallationId, InstallationError> {
        let bad = || InstallationError::BadId(s.to_owned());
        let mut acc: u128 = 0;
        let mut n = 0;
        for c in s.chars().filter(|c| *c != '-' && *c != ' ') {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let v = ALPHABET
                .iter()
                .position(|a| char::from(*a) == c)
                .ok_or_else(bad)?;
            acc = (acc << 5) | v as u128;
            n += 1;
            if n > ID_CHARS {
                return Err(bad());
            }
        }
        if n != ID_CHARS {
            return Err(bad());
        }
        let bytes = acc.to_be_bytes();
        let mut id = [0u8; ID_BYTES];
        id.copy_from_slice(&bytes[16 - ID_BYTES..]);
        Ok(InstallationId(id))
    }
}

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; 16];
        b[16 - ID_BYTES..].copy_from_slice(&self.0);
        let acc = u128::from_be_bytes(b);
        for i in 0..ID_CHARS {
            if i > 0 && i % 6 == 0 {
                f.write_str("-")?;
            }
            let shift = 5 * (ID_CHARS - 1 - i);
            let v = ((acc >> shift) & 31) as usize;
            write!(f, "{}", char::from(ALPHABET[v]))?;
        }
        Ok(())
    }
}
