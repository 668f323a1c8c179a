//! A user's private contacts (`[TwsPrivate]`, guide 9.1.1), created and
//! edited through the API or pushed as vCard 3.0/4.0 (guide 8.8: the
//! Outlook add-in's job). One or many cards are imported all or nothing.
//!
//! The same endpoints serve an administrator of the company (every user;
//! audited) and the user themself (their own contacts only, as in Caller;
//! writes refused when the `AuthorizeContactFavorite` parameter says No).
//! A change reaches the user's look-ups and searches at once.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use twp_access::params::Value;
use twp_directory::{ContactField, parse_vcards};
use twp_domain::{CompanyId, UserId};
use twp_store::directories::private::{self, PrivateContact};
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::{Change, record};
use crate::dto::time_text;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::reach::Reach;
use crate::user_auth::UserParams;

/// Longest value of a field.
const MAX_VALUE: usize = 1000;

/// A private contact.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateContactDto {
    pub id: i64,
    pub user_id: i64,
    /// TWP field → value.
    pub fields: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PrivateContact> for PrivateContactDto {
    fn from(p: PrivateContact) -> Self {
        PrivateContactDto {
            id: p.id,
            user_id: p.user_id.0,
            fields: serde_json::from_str(&p.fields).unwrap_or_default(),
            created_at: time_text(p.created_at),
            updated_at: time_text(p.updated_at),
        }
    }
}

/// A private contact as sent on create and replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrivateContactInput {
    /// TWP field (`lastName`, `firstName`, `company`, `mobilePhone`,
    /// `email1`…) → value; a name, a company or a number is required.
    pub fields: BTreeMap<String, String>,
}

/// The fields as stored (JSON), checked.
fn checked(fields: &BTreeMap<String, String>, at: &str) -> ApiResult<String> {
    let mut clean = BTreeMap::new();
    for (k, v) in fields {
        let field = ContactField::from_name(k).ok_or_else(|| {
            ApiError::bad_request(
                &format!("{at}.{k}"),
                "unknown_field",
                format!("{at}.{k}: not a TWP contact field"),
            )
        })?;
        let v = v.trim();
        if v.chars().count() > MAX_VALUE {
            return Err(ApiError::bad_request(
                &format!("{at}.{k}"),
                "too_long",
                format!("{at}.{k}: at most {MAX_VALUE} characters"),
            ));
        }
        if !v.is_empty() {
            clean.insert(field.name().to_owned(), v.to_owned());
        }
    }
    let named = [
        ContactField::LastName,
        ContactField::FirstName,
        ContactField::DisplayName,
        ContactField::Company,
    ]
    .iter()
    .chain(ContactField::PHONES)
    .any(|f| clean.contains_key(f.name()));
    if !named {
        return Err(ApiError::bad_request(
            at,
            "empty_contact",
            format!("{at}: a name, a company or a number is required"),
        ));
    }
    serde_json::to_string(&clean).map_err(ApiError::internal)
}

/// The company, when the caller may manage `user`'s private contacts: an
/// administrator of the company, or the user themself (for a write, when
/// `AuthorizeContactFavorite` allows it). Anyone else: not found.
async fn reach(
    st: &AppState,
    r: &Reach,
    company: i64,
    user: i64,
    write: bool,
) -> ApiResult<CompanyId> {
    let Reach::User { session, .. } = r else {
        return r.company(company);
    };
    if session.company.0 != company || session.user.0 != user {
        return Err(ApiError::not_found("user"));
    }
    if write {
        let mut c = st.store.read().await?;
        let params = UserParams::load(&mut c, session.company, session.user).await?;
        if matches!(params.get("AuthorizeContactFavorite")?, Value::YesNo(false)) {
            return Err(ApiError::forbidden(
                "creating private contacts is not allowed for this user (parameter AuthorizeContactFavorite = No)",
            ));
        }
    }
    Ok(session.company)
}

/// Records an administrator's change; a user's own contacts are not an
/// administrative change.
async fn audit(tx: &mut twp_store::Tx, r: &Reach, change: Change) -> ApiResult<()> {
    if let Reach::Admin(a) = r {
        record(tx, a.who(), change).await?;
    }
    Ok(())
}

/// The user's private contacts, oldest first.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), responses((status = 200, body = Vec<PrivateContactDto>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user)): Path<(i64, i64)>,
) -> ApiResult<Json<Vec<PrivateContactDto>>> {
    let cid = reach(&st, &r, company, user, false).await?;
    let mut c = st.store.read().await?;
    let all = private::list(&mut c, cid, UserId(user)).await?;
    Ok(Json(all.into_iter().map(PrivateContactDto::from).collect()))
}

/// Add a private contact.
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), request_body = PrivateContactInput,
    responses((status = 201, body = PrivateContactDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user)): Path<(i64, i64)>,
    Json(input): Json<PrivateContactInput>,
) -> ApiResult<(StatusCode, Json<PrivateContactDto>)> {
    let cid = reach(&st, &r, company, user, true).await?;
    let fields = checked(&input.fields, "fields")?;
    let mut tx = st.store.begin().await?;
    let made = private::create(&mut tx, cid, UserId(user), &[fields]).await?;
    let dto = made
        .into_iter()
        .next()
        .map(PrivateContactDto::from)
        .ok_or_else(|| ApiError::internal("no contact created"))?;
    audit(
        &mut tx,
        &r,
        Change::new("create", "private-contact", dto.id)
            .company(cid)
            .after(&dto),
    )
    .await?;
    tx.commit().await?;
    st.directories.private.forget_user(UserId(user));
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts/{contactId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ("contactId" = i64, Path)), responses((status = 200, body = PrivateContactDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user, id)): Path<(i64, i64, i64)>,
) -> ApiResult<Json<PrivateContactDto>> {
    let cid = reach(&st, &r, company, user, false).await?;
    let mut c = st.store.read().await?;
    Ok(Json(
        private::get(&mut c, cid, UserId(user), id).await?.into(),
    ))
}

/// Replace a private contact's fields.
#[utoipa::path(put, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts/{contactId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ("contactId" = i64, Path)), request_body = PrivateContactInput,
    responses((status = 200, body = PrivateContactDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user, id)): Path<(i64, i64, i64)>,
    Json(input): Json<PrivateContactInput>,
) -> ApiResult<Json<PrivateContactDto>> {
    let cid = reach(&st, &r, company, user, true).await?;
    let fields = checked(&input.fields, "fields")?;
    let mut tx = st.store.begin().await?;
    let before = PrivateContactDto::from(private::get(&mut tx, cid, UserId(user), id).await?);
    let after =
        PrivateContactDto::from(private::update(&mut tx, cid, UserId(user), id, &fields).await?);
    audit(
        &mut tx,
        &r,
        Change::new("update", "private-contact", id)
            .company(cid)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    st.directories.private.forget_user(UserId(user));
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts/{contactId}", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path), ("contactId" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user, id)): Path<(i64, i64, i64)>,
) -> ApiResult<StatusCode> {
    let cid = reach(&st, &r, company, user, true).await?;
    let mut tx = st.store.begin().await?;
    let before = PrivateContactDto::from(private::get(&mut tx, cid, UserId(user), id).await?);
    private::delete(&mut tx, cid, UserId(user), id).await?;
    audit(
        &mut tx,
        &r,
        Change::new("delete", "private-contact", id)
            .company(cid)
            .before(&before),
    )
    .await?;
    tx.commit().await?;
    st.directories.private.forget_user(UserId(user));
    Ok(StatusCode::NO_CONTENT)
}

/// Import vCards (3.0 or 4.0; one or many in the body, `text/vcard`): all
/// are added, or none when one is refused (the error names its line).
#[utoipa::path(post, path = "/api/v1/companies/{companyId}/users/{userId}/private-contacts/vcard", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("userId" = i64, Path)), request_body(content = String, content_type = "text/vcard"),
    responses((status = 201, body = Vec<PrivateContactDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_vcard(
    State(st): State<AppState>,
    r: Reach,
    Path((company, user)): Path<(i64, i64)>,
    body: String,
) -> ApiResult<(StatusCode, Json<Vec<PrivateContactDto>>)> {
    let cid = reach(&st, &r, company, user, true).await?;
    let cards = parse_vcards(&body)
        .map_err(|e| ApiError::bad_request("body", "invalid_vcard", e.to_string()))?;
    let mut all = Vec::with_capacity(cards.len());
    for card in &cards {
        let fields: BTreeMap<String, String> = card
            .fields
            .iter()
            .map(|(f, v)| (f.name().to_owned(), v.clone()))
            .collect();
        all.push(checked(&fields, &format!("card at line {}", card.line))?);
    }
    let mut tx = st.store.begin().await?;
    let made: Vec<PrivateContactDto> = private::create(&mut tx, cid, UserId(user), &all)
        .await?
        .into_iter()
        .map(PrivateContactDto::from)
        .collect();
    audit(
        &mut tx,
        &r,
        Change::new("import", "private-contact", user)
            .company(cid)
            .name(&format!("{} vCards", made.len())),
    )
    .await?;
    tx.commit().await?;
    st.directories.private.forget_user(UserId(user));
    Ok((StatusCode::CREATED, Json(made)))
}
