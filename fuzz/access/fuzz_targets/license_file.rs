//! Any text through the license file parser, inspection and verification:
//! no panic; a parsed body re-signed and verified gives the same body.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use twp_access::license::{Date, LicenseFile, SigningKey, inspect, sign, verify};

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_bytes(&[7; 32]))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let today = Date::from_days_since_epoch(20_000);
    let trusted = [key().verifying_key()];
    let _ = inspect(text, &trusted, today);
    let Ok(file) = LicenseFile::parse(text) else {
        return;
    };
    let signed = match sign(text, key()) {
        Ok(s) => s,
        Err(e) => panic!("parsed but cannot be signed: {e}"),
    };
    let again = match LicenseFile::parse(&signed) {
        Ok(f) => f,
        Err(e) => panic!("signed file does not parse: {e}"),
    };
    assert_eq!(again.body, file.body);
    assert_eq!(again.signed_by(&trusted), Some(0));
    if let Ok(lic) = verify(&signed, &trusted, &file.body.installation, file.body.expires) {
        assert_eq!(lic.body, file.body);
    } else {
        panic!("a freshly signed license does not verify on its expiry day");
    }
});
