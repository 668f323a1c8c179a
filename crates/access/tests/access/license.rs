use proptest::prelude::*;
use twp_access::authz::Application;
use twp_access::license::*;

fn seed(n: u8) -> InstallationSeed {
    InstallationSeed::from_bytes([n; 32])
}

fn body(installation: InstallationId, expires: &str) -> String {
    format!(
        "TWP LICENSE 1\n# ordered 2026-11\ncustomer: ACME SA\ninstallation: {installation}\nexpires: {expires}\nseats.caller: 100\nseats.alerter: 10\nseats.stats-admin: 2\n"
    )
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

#[test]
fn installation_id_is_stable_printable_and_parses_back() {
    let id = seed(7).installation_id();
    assert_eq!(id, seed(7).installation_id());
    assert_ne!(id, seed(8).installation_id());
    let text = id.to_string();
    assert_eq!(text.len(), 27);
    assert_eq!(text.matches('-').count(), 3);
    assert_eq!(InstallationId::parse(&text).unwrap(), id);
    assert_eq!(
        InstallationId::parse(&text.to_lowercase().replace('-', " ")).unwrap(),
        id
    );
    assert!(InstallationId::parse(&text[..20]).is_err());
    assert!(InstallationId::parse(&format!("{text}0")).is_err());
    assert!(InstallationId::parse("UUUUUU-UUUUUU-UUUUUU-UUUUUU").is_err());
    let fresh = InstallationSeed::generate().unwrap();
    assert_eq!(InstallationSeed::from_hex(&fresh.to_hex()).unwrap(), fresh);
    assert!(InstallationSeed::from_hex("zz").is_err());
}

#[test]
fn sign_then_verify_round_trip() {
    let key = keygen().unwrap();
    let this = seed(1).installation_id();
    let file = sign(&body(this, "2027-12-31"), &key).unwrap();
    assert!(file.lines().last().unwrap().starts_with("signature: "));
    let lic = verify(&file, &[key.verifying_key()], &this, day("2027-12-31")).unwrap();
    assert_eq!(lic.key_index, 0);
    assert_eq!(lic.body.customer, "ACME SA");
    assert_eq!(lic.body.seats_of(Application::Caller), 100);
    assert_eq!(lic.body.seats_of(Application::StatsAdmin), 2);
    assert_eq!(lic.body.seats_of(Application::Toolkit), 0);
    assert_eq!(lic.body.seat_limits()[0], Some(100));
    // CRLF line endings do not break the signature.
    let crlf = file.replace('\n', "\r\n");
    verify(&crlf, &[key.verifying_key()], &this, day("2027-01-01")).unwrap();
    // Nor do blank lines and trailing spaces.
    let loose = file.replace("customer: ACME SA\n", "\ncustomer: ACME SA  \n\n");
    verify(&loose, &[key.verifying_key()], &this, day("2027-01-01")).unwrap();
    assert!(!file.contains("\n\n"), "no blank line in a signed file");
    // The canonical body text signs and parses to the same body.
    let again = sign(&lic.body.to_text(), &key).unwrap();
    assert_eq!(
        verify(&again, &[key.verifying_key()], &this, day("2027-01-01"))
            .unwrap()
            .body,
        lic.body
    );
}

#[test]
fn tampered_body_is_refused() {
    let key = keygen().unwrap();
    let this = seed(1).installation_id();
    let file = sign(&body(this, "2027-12-31"), &key).unwrap();
    for tampered in [
        file.replace("seats.caller: 100", "seats.caller: 1000"),
        file.replace("# ordered", "# Ordered"),
        file.replace("2027-12-31", "2099-12-31"),
    ] {
        let err = verify(&tampered, &[key.verifying_key()], &this, day("2027-01-01")).unwrap_err();
        assert_eq!(err, LicenseError::BadSignature);
        assert!(err.to_string().contains("not valid for any trusted key"));
    }
}

#[test]
fn wrong_key_is_refused_and_second_trusted_key_accepted() {
    let key = keygen().unwrap();
    let other = keygen().unwrap();
    let this = seed(1).installation_id();
    let file = sign(&body(this, "2027-12-31"), &key).unwrap();
    let err = verify(&file, &[other.verifying_key()], &this, day("2027-01-01")).unwrap_err();
    assert_eq!(err, LicenseError::BadSignature);
    let lic = verify(
        &file,
        &[other.verifying_key(), key.verifying_key()],
        &this,
        day("2027-01-01"),
    )
    .unwrap();
    assert_eq!(lic.key_index, 1);
}

#[test]
fn foreign_installation_is_refused() {
    let key = keygen().unwrap();
    let theirs = seed(2).installation_id();
    let ours = seed(1).installation_id();
    let file = sign(&body(theirs, "2027-12-31"), &key).unwrap();
    let err = verify(&file, &[key.verifying_key()], &ours, day("2027-01-01")).unwrap_err();
    assert_eq!(
        err,
        LicenseError::ForeignInstallation {
            license: theirs,
            this: ours
        }
    );
    assert!(err.to_string().contains(&ours.to_string()));
}

#[test]
fn expired_is_refused() {
    let key = keygen().unwrap();
    let this = seed(1).installation_id();
    let file = sign(&body(this, "2026-06-30"), &key).unwrap();
    verify(&file, &[key.verifying_key()], &this, day("2026-06-30")).unwrap();
    let err = verify(&file, &[key.verifying_key()], &this, day("2026-07-01")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "license expired on 2026-06-30 (today is 2026-07-01)"
    );
}

#[test]
fn unsigned_and_malformed_files() {
    let this = seed(1).installation_id();
    let key = keygen().unwrap();
    let err = verify(
        &body(this, "2027-12-31"),
        &[key.verifying_key()],
        &this,
        day("2027-01-01"),
    )
    .unwrap_err();
    assert_eq!(err, LicenseError::NoSignature);
    let bad = body(this, "2027-12-31").replace("seats.alerter: 10", "seats.pager: 10");
    let err = LicenseFile::parse(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "license file, line 7: unknown key \"seats.pager\""
    );
    let err = LicenseFile::parse(&body(this, "2027-02-30")).unwrap_err();
    assert!(err.to_string().contains("line 5"), "{err}");
    let err = LicenseFile::parse("TWP LICENSE 1\ncustomer: X\n").unwrap_err();
    assert_eq!(err, LicenseError::Missing("installation"));
    let err = LicenseFile::parse("hello").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    let signed = sign(&body(this, "2027-12-31"), &key).unwrap();
    let err = LicenseFile::parse(&format!("{signed}seats.caller: 5\n")).unwrap_err();
    assert!(err.to_string().contains("after the signature"), "{err}");
}

#[test]
fn key_files_round_trip_and_inspect_reports() {
    let key = keygen().unwrap();
    let secret = secret_key_text(&key);
    let public = public_key_text(&key.verifying_key());
    assert_eq!(
        parse_secret_key(&secret).unwrap().to_bytes(),
        key.to_bytes()
    );
    assert_eq!(parse_public_key(&public).unwrap(), key.verifying_key());
    assert!(
        parse_public_key(&secret).is_err(),
        "headers keep the two apart"
    );
    let this = seed(1).installation_id();
    let file = sign(&body(this, "2026-06-30"), &key).unwrap();
    let ins = inspect(&file, &[key.verifying_key()], day("2026-07-01")).unwrap();
    assert_eq!(ins.signature, SignatureStatus::ValidFor(0));
    assert!(ins.expired);
    let text = ins.to_string();
    assert!(text.contains("customer:     ACME SA"), "{text}");
    assert!(text.contains("(EXPIRED)"));
    assert!(text.contains("valid (trusted key #1)"));
    let other = keygen().unwrap();
    let ins = inspect(&file, &[other.verifying_key()], day("2026-01-01")).unwrap();
    assert_eq!(ins.signature, SignatureStatus::Invalid);
    let ins = inspect(&body(this, "2026-06-30"), &[], day("2026-01-01")).unwrap();
    assert_eq!(ins.signature, SignatureStatus::Missing);
}

proptest! {
    #[test]
    fn license_parser_never_panics(text in "\\PC{0,200}") {
        let _ = LicenseFile::parse(&text);
    }

    #[test]
    fn dates_round_trip(days in 0i64..2_900_000) {
        let d = Date::from_days_since_epoch(days);
        prop_assert_eq!(Date::parse(&d.to_string()), Some(d));
    }
}
