//! Rows fetched as one JSON object each.
//!
//! sqlx copies every cell of a result through its SQLite worker thread and
//! again into the `Any` driver's values; on wide rows that per-cell cost
//! dominated list pages (≈ 1 µs a cell, 7 ms for 100 users with their
//! devices). Building the object in the database (`json_object` in SQLite,
//! `json_build_object` in PostgreSQL) makes it one cell per row, which
//! serde then reads. Lists go one step further and aggregate the whole page
//! into one JSON array (`json_group_array` / `json_agg`): one row crosses
//! the worker thread instead of a hundred.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// `CAST(json_object('k', expr, …) AS TEXT) AS row_json` for this backend.
pub(crate) fn json_select(c: &AnyConnection, fields: &[(&str, &str)]) -> String {
    let f = if is_postgres(c) {
        "json_build_object"
    } else {
        "json_object"
    };
    format!("CAST({f}({}) AS TEXT) AS row_json", object_args(fields))
}

fn is_postgres(c: &AnyConnection) -> bool {
    c.backend_name().eq_ignore_ascii_case("postgresql")
}

fn object_args(fields: &[(&str, &str)]) -> String {
    let args: Vec<String> = fields.iter().map(|(k, e)| format!("'{k}', {e}")).collect();
    args.join(", ")
}

/// A query returning the rows of `tail` (`FROM … WHERE … ORDER BY … LIMIT …`)
/// as one JSON array in the single column `page`. Callers sort what they
/// read: aggregate order is not guaranteed by SQL.
pub(crate) fn json_page_sql(c: &AnyConnection, fields: &[(&str, &str)], tail: &str) -> String {
    let args = object_args(fields);
    if is_postgres(c) {
        format!(
            "SELECT CAST(json_agg(j) AS TEXT) AS page FROM (SELECT json_build_object({args}) AS j {tail}) AS p"
        )
    } else {
        format!(
            "SELECT json_group_array(json(j)) AS page FROM (SELECT json_object({args}) AS j {tail})"
        )
    }
}

/// An expression giving the rows of `tail` (`FROM … WHERE …`, which may
/// refer to the enclosing query) as one JSON array, `[]` when there are
/// none, to nest inside a [`json_select`] or [`json_page_sql`] object. The
/// subquery's text result is read back as JSON (SQLite) or is JSON already.
pub(crate) fn json_array_expr(c: &AnyConnection, fields: &[(&str, &str)], tail: &str) -> String {
    let args = object_args(fields);
    if is_postgres(c) {
        format!("(SELECT COALESCE(json_agg(json_build_object({args})), '[]'::json) {tail})")
    } else {
        format!("json((SELECT json_group_array(json_object({args})) {tail}))")
    }
}

/// Reads the rows of a [`json_page_sql`] result (an empty page may be NULL).
pub(crate) fn json_page<T: DeserializeOwned>(r: &AnyRow) -> Result<Vec<T>, sqlx::Error> {
    match r.try_get::<Option<String>, _>("page")? {
        Some(text) => serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e))),
        None => Ok(Vec::new()),
    }
}

pub(crate) fn json_row<T: DeserializeOwned>(r: &AnyRow) -> Result<T, sqlx::Error> {
    let text: String = r.try_get("row_json")?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Booleans come as `true`/`false` from PostgreSQL and `1`/`0` from SQLite.
pub(crate) fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Int(i) => i != 0,
    })
}
