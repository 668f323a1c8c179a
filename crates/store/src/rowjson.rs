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

use serde::Deserializer;
use serde::de::DeserializeOwned;
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

/// [`json_page_sql`] for a `tail` without `ORDER BY` or `LIMIT`
/// (`FROM … WHERE …`): every row it selects. SQLite aggregates the objects
/// directly; through a subquery it would lose their JSON type and parse
/// each again (`json(j)`), which was over half of reading a 41,000-user
/// domain (callgrind).
pub(crate) fn json_all_sql(c: &AnyConnection, fields: &[(&str, &str)], tail: &str) -> String {
    let args = object_args(fields);
    if is_postgres(c) {
        format!("SELECT CAST(json_agg(json_build_object({args})) AS TEXT) AS page {tail}")
    } else {
        format!("SELECT json_group_array(json_object({args})) AS page {tail}")
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
/// A visitor, not an untagged enum: that one buffers the value and builds
/// (formats) an error for every SQLite row before it tries the integer,
/// which was a third of reading a domain's 41,000 users (callgrind).
pub(crate) fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct Flex;
    impl serde::de::Visitor<'_> for Flex {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a boolean, or 0 or 1")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
    }
    d.deserialize_any(Flex)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[serde(deserialize_with = "flex_bool")]
        on: bool,
    }

    #[test]
    fn booleans_of_both_backends() {
        let on = |json: &str| serde_json::from_str::<Row>(json).map(|r| r.on);
        assert!(on(r#"{"on": true}"#).unwrap());
        assert!(!on(r#"{"on": false}"#).unwrap());
        assert!(on(r#"{"on": 1}"#).unwrap());
        assert!(!on(r#"{"on": 0}"#).unwrap());
        let e = on(r#"{"on": "yes"}"#).unwrap_err().to_string();
        assert!(e.contains("a boolean, or 0 or 1"), "{e}");
    }
}
