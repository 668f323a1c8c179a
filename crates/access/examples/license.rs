//! The library calls behind `twp license keygen|sign|inspect`, end to end:
//! a key pair, a body signed for this installation, inspection, and the
//! server's verification (then a tampered copy refused).
//!
//!   cargo run -p twp-access --example license [output-dir]
//!
//! With an output directory, the key files and the license are written there.

use std::path::PathBuf;

use twp_access::authz::Application;
use twp_access::license::{
    Date, InstallationSeed, LicenseBody, inspect, keygen, parse_public_key, public_key_text,
    secret_key_text, sign, verify,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out: Option<PathBuf> = std::env::args_os().nth(1).map(PathBuf::from);

    // Server side, once: the seed is stored, the id is shown to the operator.
    let seed = InstallationSeed::generate()?;
    let installation = seed.installation_id();
    println!("installation id: {installation}");

    // `twp license keygen`: two files; the secret one stays with the vendor.
    let key = keygen()?;
    let secret = secret_key_text(&key);
    let public = public_key_text(&key.verifying_key());
    println!("--- public key file ---\n{public}");

    // `twp license sign`: a body written by hand (or from LicenseBody).
    let today = Date::today();
    let expires = Date::from_days_since_epoch(today.days_since_epoch() + 365);
    let mut seats = [0u32; 8];
    seats[Application::Caller as usize] = 100;
    seats[Application::Alerter as usize] = 10;
    seats[Application::SoftPhone as usize] = 20;
    let body = LicenseBody {
        customer: "ACME SA".into(),
        installation,
        expires,
        seats,
    };
    let file = sign(&body.to_text(), &key)?;
    println!("--- license file ---\n{file}");

    // `twp license inspect`: fields, and whether the signature is valid.
    let trusted = [parse_public_key(&public)?];
    println!("--- inspect ---\n{}", inspect(&file, &trusted, today)?);

    // The server: verify and take the seat limits.
    let license = verify(&file, &trusted, &installation, today)?;
    println!(
        "verified; Caller seats: {}",
        license.body.seats_of(Application::Caller)
    );

    let tampered = file.replace("seats.caller: 100", "seats.caller: 1000");
    match verify(&tampered, &trusted, &installation, today) {
        Ok(_) => println!("tampered copy accepted (this is a bug)"),
        Err(e) => println!("tampered copy refused: {e}"),
    }

    if let Some(dir) = out {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("license.key"), secret)?;
        std::fs::write(dir.join("license.pub"), public)?;
        std::fs::write(dir.join("twp.license"), file)?;
        std::fs::write(dir.join("installation.seed"), seed.to_hex())?;
        println!("written to {}", dir.display());
    }
    Ok(())
}
