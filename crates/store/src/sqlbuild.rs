//! A tiny builder for filtered list queries: conditions get their `$n`
//! placeholders in order, values are always bound, never spliced.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

pub(crate) enum Value {
    I64(i64),
    Text(String),
    Bool(bool),
}

#[derive(Default)]
pub(crate) struct Where {
    conds: Vec<String>,
    values: Vec<Value>,
}

impl Where {
    /// Adds a condition; each `?` in `cond` becomes the next `$n`, bound
    /// to the next of `values` (one value per `?`).
    pub(crate) fn and<const N: usize>(&mut self, cond: &str, values: [Value; N]) -> &mut Self {
        let mut vals = values.into_iter();
        let mut out = String::with_capacity(cond.len() + 4);
        for ch in cond.chars() {
            match (ch, ch == '?') {
                (_, true) => {
                    if let Some(v) = vals.next() {
                        self.values.push(v);
                    }
                    out.push_str(&format!("${}", self.values.len()));
                }
                (c, false) => out.push(c),
            }
        }
        debug_assert!(vals.next().is_none(), "more values than placeholders");
        self.conds.push(out);
        self
    }

    pub(crate) fn sql(&self) -> String {
        if self.conds.is_empty() {
            "TRUE".into()
        } else {
            self.conds.join(" AND ")
        }
    }

    /// The next placeholder number (for a trailing LIMIT).
    pub(crate) fn next_param(&self) -> usize {
        self.values.len() + 1
    }

    pub(crate) fn bind<'q>(
        self,
        mut q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        for v in self.values {
            q = match v {
                Value::I64(i) => q.bind(i),
                Value::Text(s) => q.bind(s),
                Value::Bool(b) => q.bind(b),
            };
        }
        q
    }
}

/// `IN (…)` text for a list of company ids (`NULL` when empty, which
/// matches nothing). Ids are integers from the database, never request text.
pub(crate) fn company_id_list(ids: &[twp_domain::CompanyId]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter()
        .map(|i| i.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
