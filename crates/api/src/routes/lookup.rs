//! Reverse look-up and search over a domain's directories (guide 8, TWS
//! Caller). Administrators read every directory of the domain; a logged-in
//! user reads the directories granted to them or to their groups (7.4.2),
//! passed to the engine as its `Allowed` set, and their own private
//! contacts when they may read the domain's `[TwsPrivate]` directory
//! (`directories/private.rs`), at that directory's priority.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use twp_access::authz::{Object, ObjectKind};
use twp_directory::search::MAX_LIMIT;
use twp_directory::{
    AdvancedQuery, Allowed, CallerMatch, Condition, ContactField, Cursor, DirectoryId, MatchKind,
    Number, Profile, SearchPage, SimpleQuery, TextMatch,
};
use twp_domain::{CompanyId, DomainId};
use twp_store::domains;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::directories::private::Book;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::reach::Reach;

/// One contact of a profile.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberDto<'a> {
    pub directory_id: i64,
    pub directory_name: &'a str,
    /// The contact's id in its source.
    pub id: &'a str,
}

/// A contact as users see it: merged across directories with the merge
/// flag (8.2.2), red-listed numbers left out and listed as hidden.
// Borrowed from the engine's answer and written to the response at once:
// a look-up copies no value.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto<'a> {
    pub name: String,
    /// The VIP text (8.2.3), when the contact is a VIP.
    pub vip: Option<&'a str>,
    /// TWP field → value, each from the first member having it.
    pub fields: BTreeMap<&'static str, &'a str>,
    /// Phone fields that exist but are red-listed (8.2.4).
    pub hidden_numbers: Vec<&'static str>,
    /// Members in priority order; the first is the one found.
    pub members: Vec<MemberDto<'a>>,
}

impl<'a> From<&'a Profile> for ProfileDto<'a> {
    fn from(p: &'a Profile) -> Self {
        let mut fields = BTreeMap::new();
        let mut hidden = Vec::new();
        for f in ContactField::ALL {
            if f.is_phone() {
                match p.number(*f).0 {
                    Number::Visible(v) => {
                        fields.insert(f.name(), v);
                    }
                    Number::Hidden => hidden.push(f.name()),
                    Number::Absent => {}
                }
            } else if let Some((v, _)) = p.get(*f) {
                fields.insert(f.name(), v);
            }
        }
        let found = p.found();
        let mut members = vec![found];
        members.extend(p.members().iter().filter(|m| !std::ptr::eq(*m, found)));
        ProfileDto {
            name: p.name(),
            vip: p.vip(),
            fields,
            hidden_numbers: hidden,
            members: members
                .into_iter()
                .map(|m| MemberDto {
                    directory_id: m.directory().id.0,
                    directory_name: &m.directory().name,
                    id: m.contact().id(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// The caller's number as the PBX presents it.
    pub number: String,
}

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LookupDto<'a> {
    pub found: bool,
    /// The number in the dialing plan's canonical form.
    pub canonical: &'a str,
    /// The directory whose contact matched.
    pub directory_id: Option<i64>,
    pub directory_name: Option<&'a str>,
    /// The contact's field holding the number.
    pub field: Option<&'static str>,
    /// `exact`, or `suffix` (internal reverse length).
    #[serde(rename = "match")]
    pub match_kind: Option<&'static str>,
    /// The number is red-listed: show the name only.
    pub number_hidden: bool,
    pub vip: Option<&'a str>,
    pub contact: Option<ProfileDto<'a>>,
}

async fn check_domain(
    st: &AppState,
    r: &Reach,
    company: i64,
    domain: i64,
) -> ApiResult<twp_domain::CompanyId> {
    let cid = r.company(company)?;
    let mut c = st.store.read().await?;
    domains::get(&mut c, cid, DomainId(domain)).await?;
    Ok(cid)
}

/// The directories a caller may read: an administrator every directory of
/// the domain (`None`); a user those granted to them or to their groups
/// (guide 7.4.2), which may belong to another domain of the company.
async fn readable(st: &AppState, r: &Reach) -> ApiResult<Option<Vec<DirectoryId>>> {
    let Reach::User { session, .. } = r else {
        return Ok(None);
    };
    let engine = crate::access::engine(st).await?;
    Ok(Some(
        engine
            .visible(session.user, ObjectKind::Directory)
            .into_iter()
            .filter_map(|via| match via.object {
                Object::Directory(d) => Some(DirectoryId(d.0)),
                _ => None,
            })
            .collect(),
    ))
}

fn allowed(readable: &Option<Vec<DirectoryId>>) -> Allowed<'_> {
    match readable {
        None => Allowed::All,
        Some(ids) => Allowed::Only(ids),
    }
}

/// The caller's own private contacts (guide 9.1.1), when the caller is a
/// user of `domain` who may read the domain's `[TwsPrivate]` directory.
async fn own_book(
    st: &AppState,
    r: &Reach,
    company: CompanyId,
    domain: DomainId,
    readable: &Option<Vec<DirectoryId>>,
) -> ApiResult<Option<Arc<Book>>> {
    let (Reach::User { session, .. }, Some(ids)) = (r, readable) else {
        return Ok(None);
    };
    if session.domain != domain {
        return Ok(None);
    }
    let book = st
        .directories
        .private
        .book(st, company, domain, session.user)
        .await?;
    Ok(match &book.inner {
        Some((id, _)) if ids.contains(id) => Some(book),
        _ => None,
    })
}

/// The better of two matches: exact before suffix, then the directory of
/// the lowest priority number (the first on a tie).
fn better(a: Option<CallerMatch>, b: Option<CallerMatch>) -> Option<CallerMatch> {
    let rank = |m: &CallerMatch| {
        (
            m.kind != MatchKind::Exact,
            m.profile.found().directory().priority,
        )
    };
    match (a, b) {
        (Some(a), Some(b)) if rank(&b) < rank(&a) => Some(b),
        (a, b) => a.or(b),
    }
}

/// Name a caller: the number is made canonical with the domain's dialing
/// plan, matched exactly, else on its last digits (internal reverse
/// length); the directory with the lowest priority number wins.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/lookup", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), LookupQuery),
    responses((status = 200, body = LookupDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lookup(
    State(st): State<AppState>,
    r: Reach,
    Path((company, domain)): Path<(i64, i64)>,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Response> {
    let number = q.number.trim();
    if number.is_empty() || number.len() > 64 {
        return Err(ApiError::bad_request(
            "number",
            "invalid_number",
            "number: 1 to 64 characters",
        ));
    }
    // a built engine is known to be a domain of that company: no store
    // round trip on the hot path
    let cid = r.company(company)?;
    let readable = readable(&st, &r).await?;
    let engine = match st.directories.get_in(cid, DomainId(domain)) {
        Some(e) => e,
        None => {
            check_domain(&st, &r, company, domain).await?;
            st.directories.engine(&st, cid, DomainId(domain)).await?
        }
    };
    let mut found = engine.lookup(number, allowed(&readable));
    if let Some(book) = own_book(&st, &r, cid, DomainId(domain), &readable).await?
        && let Some((_, own)) = &book.inner
    {
        found = better(found, own.lookup(number, Allowed::All));
    }
    let Some(m) = found else {
        let canonical = engine.plan().incoming(number).number;
        return Ok(Json(LookupDto {
            found: false,
            canonical: &canonical,
            directory_id: None,
            directory_name: None,
            field: None,
            match_kind: None,
            number_hidden: false,
            vip: None,
            contact: None,
        })
        .into_response());
    };
    Ok(Json(LookupDto {
        found: true,
        canonical: &m.canonical,
        directory_id: Some(m.directory.0),
        directory_name: Some(&m.profile.found().directory().name),
        field: Some(m.field.name()),
        match_kind: Some(match m.kind {
            MatchKind::Exact => "exact",
            MatchKind::Suffix => "suffix",
        }),
        number_hidden: m.number_hidden,
        vip: m.vip.as_deref(),
        contact: Some(ProfileDto::from(&m.profile)),
    })
    .into_response())
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageDto<'a> {
    pub items: Vec<ProfileDto<'a>>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn encode_cursor(c: &Cursor) -> String {
    let json = serde_json::json!([c.directory.0, c.key, c.id]).to_string();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(text: &str) -> ApiResult<Cursor> {
    let bad = || {
        ApiError::bad_request(
            "after",
            "invalid_cursor",
            "after: not a cursor given by this API",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let (d, key, id): (i64, String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    Ok(Cursor {
        directory: DirectoryId(d),
        key,
        id,
    })
}

/// The JSON answer of a search page.
fn page(p: &SearchPage) -> Response {
    Json(SearchPageDto {
        items: p.hits.iter().map(ProfileDto::from).collect(),
        next: p.next.as_ref().map(encode_cursor),
    })
    .into_response()
}

fn limit(l: Option<usize>) -> ApiResult<usize> {
    let l = l.unwrap_or(20);
    if (1..=MAX_LIMIT).contains(&l) {
        Ok(l)
    } else {
        Err(ApiError::bad_request(
            "limit",
            "invalid_limit",
            format!("limit: 1 to {MAX_LIMIT}"),
        ))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Names, company or a number (case- and accent-insensitive).
    pub q: String,
    /// `prefix` (default: a word begins with it) or `contains`.
    pub mode: Option<String>,
    /// Page size, 1–500 (default 20).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

/// Simple search over names, company and numbers.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/search", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), SearchQuery),
    responses((status = 200, body = SearchPageDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    r: Reach,
    Path((company, domain)): Path<(i64, i64)>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Response> {
    let cid = check_domain(&st, &r, company, domain).await?;
    let mode = match q.mode.as_deref() {
        None | Some("prefix") => TextMatch::Prefix,
        Some("contains") => TextMatch::Contains,
        Some(other) => {
            return Err(ApiError::bad_request(
                "mode",
                "invalid_mode",
                format!("mode: {other:?} is not prefix or contains"),
            ));
        }
    };
    if q.q.trim().is_empty() || q.q.len() > 100 {
        return Err(ApiError::bad_request(
            "q",
            "invalid_query",
            "q: 1 to 100 characters",
        ));
    }
    let after = q.after.as_deref().map(decode_cursor).transpose()?;
    let limit = limit(q.limit)?;
    let readable = readable(&st, &r).await?;
    let engine = st.directories.engine(&st, cid, DomainId(domain)).await?;
    let query = |limit, after| SimpleQuery {
        text: &q.q,
        mode,
        limit,
        after,
    };
    let own = own_book(&st, &r, cid, DomainId(domain), &readable).await?;
    let (Some(book), Some(ids)) = (&own, &readable) else {
        return Ok(page(
            &engine.search(query(limit, after.as_ref()), allowed(&readable)),
        ));
    };
    let Some((private_id, private)) = &book.inner else {
        return Err(ApiError::internal("a private book without its directory"));
    };
    // The private directory takes its place in priority order: the
    // readable directories before it, it, those after it.
    let priority = private
        .directories()
        .first()
        .map_or(u32::MAX, |d| d.priority);
    let (before, after_ids): (Vec<DirectoryId>, Vec<DirectoryId>) = engine
        .directories()
        .iter()
        .filter(|d| ids.contains(&d.id))
        .map(|d| (d.id, d.priority <= priority))
        .fold((Vec::new(), Vec::new()), |(mut b, mut a), (id, early)| {
            if early {
                b.push(id)
            } else {
                a.push(id)
            }
            (b, a)
        });
    let segments: [(
        &twp_directory::DirectoryEngine,
        Allowed<'_>,
        Vec<DirectoryId>,
    ); 3] = [
        (&engine, Allowed::Only(&before), before.clone()),
        (private, Allowed::All, vec![*private_id]),
        (&engine, Allowed::Only(&after_ids), after_ids.clone()),
    ];
    let first = match &after {
        None => 0,
        Some(c) => match segments
            .iter()
            .position(|(_, _, ids)| ids.contains(&c.directory))
        {
            Some(i) => i,
            None => {
                return Ok(page(&SearchPage {
                    hits: Vec::new(),
                    next: None,
                }));
            }
        },
    };
    let mut result = SearchPage {
        hits: Vec::new(),
        next: None,
    };
    for (i, (e, allowed, _)) in segments.iter().enumerate().skip(first) {
        let from = if i == first { after.as_ref() } else { None };
        let p = e.search(query(limit - result.hits.len(), from), *allowed);
        result.hits.extend(p.hits);
        if p.next.is_some() {
            result.next = p.next;
            break;
        }
        if result.hits.len() == limit {
            // full at the end of a segment: the next page starts at the
            // next segment's first directory (a cursor before any contact)
            result.next = segments[i + 1..]
                .iter()
                .find_map(|(_, _, ids)| ids.first())
                .map(|d| Cursor {
                    directory: *d,
                    key: String::new(),
                    id: String::new(),
                });
            break;
        }
    }
    Ok(page(&result))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedSearchQuery {
    /// The directory searched.
    pub directory_id: i64,
    /// A TWP field (`lastName`, `company`, `mobilePhone`…).
    pub field: String,
    /// `begins`, `contains`, `different`, `equals` or `ends`.
    pub condition: String,
    pub value: String,
    /// Page size, 1–500 (default 20).
    pub limit: Option<usize>,
    pub after: Option<String>,
}

/// Advanced search: one directory, one field, one condition.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/search/advanced", tag = "directories", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), AdvancedSearchQuery),
    responses((status = 200, body = SearchPageDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_advanced(
    State(st): State<AppState>,
    r: Reach,
    Path((company, domain)): Path<(i64, i64)>,
    Query(q): Query<AdvancedSearchQuery>,
) -> ApiResult<Response> {
    let cid = check_domain(&st, &r, company, domain).await?;
    let field = ContactField::from_name(&q.field).ok_or_else(|| {
        ApiError::bad_request(
            "field",
            "unknown_field",
            format!("field: {:?} is not a TWP contact field", q.field),
        )
    })?;
    let condition = match q.condition.as_str() {
        "begins" => Condition::Begins,
        "contains" => Condition::Contains,
        "different" => Condition::Different,
        "equals" => Condition::Equals,
        "ends" => Condition::Ends,
        other => {
            return Err(ApiError::bad_request(
                "condition",
                "invalid_condition",
                format!("condition: {other:?} is not begins, contains, different, equals or ends"),
            ));
        }
    };
    if q.value.len() > 100 {
        return Err(ApiError::bad_request(
            "value",
            "invalid_query",
            "value: at most 100 characters",
        ));
    }
    let after = q.after.as_deref().map(decode_cursor).transpose()?;
    let limit = limit(q.limit)?;
    let readable = readable(&st, &r).await?;
    let advanced = |limit| AdvancedQuery {
        directory: DirectoryId(q.directory_id),
        field,
        condition,
        value: &q.value,
        limit,
        after: after.as_ref(),
    };
    if let Some(book) = own_book(&st, &r, cid, DomainId(domain), &readable).await?
        && let Some((id, own)) = &book.inner
        && id.0 == q.directory_id
    {
        return Ok(page(&own.search_advanced(advanced(limit), Allowed::All)));
    }
    let engine = st.directories.engine(&st, cid, DomainId(domain)).await?;
    if !engine
        .directories()
        .iter()
        .any(|d| d.id.0 == q.directory_id)
    {
        return Err(ApiError::not_found("directory"));
    }
    let result = engine.search_advanced(advanced(limit), allowed(&readable));
    Ok(page(&result))
}
