/// Keyset paging: items come in id order, `after` is the last id seen.
/// Cheap at any depth, unlike OFFSET.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: u32,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 1000;

    pub fn new(after: Option<i64>, limit: Option<u32>) -> Self {
        Self {
            after,
            limit: limit.unwrap_or(100).clamp(1, Self::MAX_LIMIT),
        }
    }

    /// The SQL limit: one more than asked, to know whether a next page exists.
    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    pub(crate) fn after_or_zero(&self) -> i64 {
        self.after.unwrap_or(0)
    }
}

/// One page of results and the cursor for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows.
    pub(crate) fn from_rows(mut rows: Vec<T>, req: &PageRequest, id: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() > req.limit as usize;
        rows.truncate(req.limit as usize);
        let next_after = if more { rows.last().map(&id) } else { None };
        Self {
            items: rows,
            next_after,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}

/// `%text%` for a case-insensitive LIKE on a lower-cased column, with the
/// LIKE wildcards of the search text escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::with_capacity(q.len() + 2);
    s.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}
