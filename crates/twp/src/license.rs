//! `twp license keygen|sign|inspect`: the license issuer's tools (guide
//! 3.3.1–3.3.2), and the trusted keys of the server's configuration.

use std::path::Path;

use twp_access::license::{
    Date, LicenseError, VerifyingKey, inspect, keygen, parse_public_key, parse_secret_key,
    public_key_text, secret_key_text, sign,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PUBLIC_HEADER: &str = "TWP LICENSE PUBLIC KEY";

/// A trusted key as written in the configuration: the base64 line of a
/// public key file (or the whole file's text).
pub fn trusted_key(text: &str) -> Result<VerifyingKey, LicenseError> {
    let text = text.trim();
    if text.starts_with(PUBLIC_HEADER) {
        parse_public_key(text)
    } else {
        parse_public_key(&format!("{PUBLIC_HEADER}\n{text}\n"))
    }
}

/// Writes `license.key` (secret) and `license.pub` into `dir`.
pub fn keygen_to(dir: &Path) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir)?;
    let secret = dir.join("license.key");
    if secret.exists() {
        return Err(format!(
            "{} exists: refusing to overwrite a signing key",
            secret.display()
        )
        .into());
    }
    let key = keygen()?;
    std::fs::write(&secret, secret_key_text(&key))?;
    let public = public_key_text(&key.verifying_key());
    std::fs::write(dir.join("license.pub"), &public)?;
    let line = public.lines().nth(1).unwrap_or_default();
    println!(
        "secret key: {} (keep it off the servers)\npublic key: {}\n\nTrust it on a server (twp.toml):\n[licenses]\ntrusted_keys = [\"{line}\"]",
        secret.display(),
        dir.join("license.pub").display()
    );
    Ok(())
}

/// Prints the signed license for a body file.
pub fn sign_file(key: &Path, body: &Path) -> Result<(), BoxError> {
    let key = parse_secret_key(&read(key)?)?;
    print!("{}", sign(&read(body)?, &key)?);
    Ok(())
}

/// Prints what a license file says; with keys, whether its signature holds.
/// Exit status 1 when the signature is not valid for the given keys.
pub fn inspect_file(file: &Path, keys: &[std::path::PathBuf]) -> Result<bool, BoxError> {
    let trusted = keys
        .iter()
        .map(|k| Ok(parse_public_key(&read(k)?)?))
        .collect::<Result<Vec<_>, BoxError>>()?;
    let report = inspect(&read(file)?, &trusted, Date::today())?;
    print!("{report}");
    Ok(keys.is_empty()
        || matches!(
            report.signature,
            twp_access::license::SignatureStatus::ValidFor(_)
        ))
}

fn read(p: &Path) -> Result<String, BoxError> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()).into())
}
