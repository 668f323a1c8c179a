//! Turns request bodies into validated domain values, collecting every
//! rejected field with its API name.

use twp_domain::{
    Culture, DeviceData, DeviceProtocol, DeviceSecrets, DomainId, DtmfMethod, Email, FieldError,
    FieldErrors, Name, PhoneNumber, SecretChange, SipSettings, UserData, validate_ip,
    validate_optional_text, validate_port,
};

use crate::crypto::{SecretBox, hash_password};
use crate::dto::{DeviceInput, UserInput};
use crate::error::ApiError;

pub const NAME_MAX: usize = 100;
pub const TEXT_MAX: usize = 200;

fn opt<T>(
    errs: &mut FieldErrors,
    v: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Option<T> {
    match v.map(str::trim) {
        None | Some("") => None,
        Some(s) => errs.check(parse(s)),
    }
}

/// Validates the editable fields of a user.
#[allow(clippy::too_many_arguments)]
pub fn user_data(
    errs: &mut FieldErrors,
    domain_id: i64,
    user_name: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
    gsm: Option<&str>,
    email: Option<&str>,
    ip: Option<&str>,
    enabled: bool,
    culture: Option<&str>,
    external_key: Option<&str>,
) -> Option<UserData> {
    let user_name = errs.check(Name::parse("userName", user_name, NAME_MAX));
    let first_name = errs.check(validate_optional_text("firstName", first_name, NAME_MAX));
    let last_name = errs.check(validate_optional_text("lastName", last_name, NAME_MAX));
    let gsm = opt(errs, gsm, |s| {
        PhoneNumber::parse("gsm", s, true).map(PhoneNumber::into_string)
    });
    let email = opt(errs, email, |s| {
        Email::parse("email", s).map(Email::into_string)
    });
    let ip = opt(errs, ip, |s| validate_ip("ip", s));
    let culture = opt(errs, culture, |s| {
        Culture::parse("culture", s).map(Culture::into_string)
    });
    let external_key = errs.check(validate_optional_text(
        "externalKey",
        external_key,
        TEXT_MAX,
    ));
    Some(UserData {
        domain_id: DomainId(domain_id),
        user_name: user_name?.into_string(),
        first_name: first_name?,
        last_name: last_name?,
        gsm,
        email,
        ip,
        enabled,
        culture,
        external_key: external_key?,
    })
}

/// A user's TWP password: hashed with argon2id.
pub fn user_password(field: &str, pw: &str) -> Result<String, ApiError> {
    let n = pw.chars().count();
    if !(6..=1024).contains(&n) {
        return Err(ApiError::bad_request(
            field,
            "weak_password",
            "must be 6 to 1024 characters",
        ));
    }
    hash_password(pw).map_err(ApiError::internal)
}

/// A voicemail password: digits the PBX accepts, sealed in the secret box.
pub fn vm_password(field: &str, pw: &str, secrets: &SecretBox) -> Result<String, ApiError> {
    if !(4..=16).contains(&pw.len()) || !pw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            field,
            "invalid_vm_password",
            "must be 4 to 16 digits",
        ));
    }
    Ok(secrets.seal(pw))
}

/// A write-only secret of a device: absent keeps, `""` clears, else sealed.
fn device_secret(v: Option<&str>, secrets: &SecretBox) -> SecretChange {
    match v {
        None => SecretChange::Keep,
        Some("") => SecretChange::Clear,
        Some(s) => SecretChange::Set(secrets.seal(s)),
    }
}

/// Validates a device; `prefix` names it in errors (e.g. `devices[1]`).
pub fn device(
    errs: &mut FieldErrors,
    prefix: Option<&str>,
    d: &DeviceInput,
    secrets: &SecretBox,
) -> Option<(DeviceData, DeviceSecrets)> {
    let mut local = FieldErrors::default();
    let number = local.check(PhoneNumber::parse("number", &d.number, false));
    let protocol = match d.protocol.as_deref() {
        None | Some("") => Some(DeviceProtocol::Csta),
        Some(p) => local.check(p.parse::<DeviceProtocol>()),
    };
    let ip = opt(&mut local, d.ip.as_deref(), |s| validate_ip("ip", s));
    let site = opt(&mut local, d.site.as_deref(), |s| {
        twp_domain::validate_site("site", s).map(|()| s.to_owned())
    });
    let default_sip = crate::dto::SipInput::default();
    let s = d.sip.as_ref().unwrap_or(&default_sip);
    let sip_user = local.check(validate_optional_text(
        "sip.userName",
        s.user_name.as_deref(),
        NAME_MAX,
    ));
    let proxy = local.check(validate_optional_text(
        "sip.proxy",
        s.proxy.as_deref(),
        TEXT_MAX,
    ));
    let stun = local.check(validate_optional_text(
        "sip.stun",
        s.stun.as_deref(),
        TEXT_MAX,
    ));
    let realm = local.check(validate_optional_text(
        "sip.realm",
        s.realm.as_deref(),
        TEXT_MAX,
    ));
    let port = s
        .port
        .and_then(|p| local.check(validate_port("sip.port", p)));
    let dtmf = opt(&mut local, s.dtmf_method.as_deref(), |v| {
        v.parse::<DtmfMethod>().map_err(|e| FieldError {
            field: "sip.dtmfMethod".into(),
            ..e
        })
    });
    if let Some(c) = s.ccos
        && !(0..=64).contains(&c)
    {
        local.push(FieldError::new(
            "sip.ccos",
            "out_of_range",
            "must be 0 to 64",
        ));
    }
    let failed = !local.is_empty();
    for e in local.0 {
        errs.push(match prefix {
            Some(p) => e.under(p),
            None => e,
        });
    }
    if failed {
        return None;
    }
    Some((
        DeviceData {
            number: number?.into_string(),
            protocol: protocol?,
            ip,
            video: d.video,
            site,
            sip: SipSettings {
                one_number: s.one_number,
                ccos: s.ccos,
                user_name: sip_user?,
                proxy: proxy?,
                port,
                stun: stun?,
                realm: realm?,
                dtmf_method: dtmf,
                g729: s.g729,
                tls: s.tls,
            },
        },
        DeviceSecrets {
            password: device_secret(d.password.as_deref(), secrets),
            sip_password: device_secret(s.password.as_deref(), secrets),
        },
    ))
}

/// A validated user ready for the store: fields, protected secrets, devices.
pub type NewUser = (
    UserData,
    twp_store::users::UserSecrets,
    Vec<(DeviceData, DeviceSecrets)>,
);

/// Devices a user may be created with in one request (one transaction).
pub const MAX_NEW_DEVICES: usize = 64;

/// A complete new user with its devices and protected secrets.
pub fn new_user(u: &UserInput, secrets: &SecretBox) -> Result<NewUser, ApiError> {
    let mut errs = FieldErrors::default();
    let data = user_data(
        &mut errs,
        u.domain_id,
        &u.user_name,
        u.first_name.as_deref(),
        u.last_name.as_deref(),
        u.gsm.as_deref(),
        u.email.as_deref(),
        u.ip.as_deref(),
        u.enabled.unwrap_or(true),
        u.culture.as_deref(),
        u.external_key.as_deref(),
    );
    if u.devices.len() > MAX_NEW_DEVICES {
        return Err(ApiError::bad_request(
            "devices",
            "too_many",
            format!(
                "devices: at most {MAX_NEW_DEVICES} with the user; add more with POST …/users/{{userId}}/devices"
            ),
        ));
    }
    let mut devices = Vec::with_capacity(u.devices.len());
    for (i, d) in u.devices.iter().enumerate() {
        if let Some(v) = device(&mut errs, Some(&format!("devices[{i}]")), d, secrets) {
            devices.push(v);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (d, _)) in devices.iter().enumerate() {
        if !seen.insert(d.number.clone()) {
            errs.push(FieldError::new(
                format!("devices[{i}].number"),
                "duplicate",
                "the same number appears twice in this request",
            ));
        }
    }
    errs.into_result()?;
    let data = data.ok_or_else(|| ApiError::internal("validated user without data"))?;
    let password_hash = match u.password.as_deref() {
        None | Some("") => SecretChange::Keep,
        Some(p) => SecretChange::Set(user_password("password", p)?),
    };
    let vm = match u.vm_password.as_deref() {
        None | Some("") => SecretChange::Keep,
        Some(p) => SecretChange::Set(vm_password("vmPassword", p, secrets)?),
    };
    Ok((
        data,
        twp_store::users::UserSecrets {
            password_hash,
            vm_password: vm,
        },
        devices,
    ))
}
