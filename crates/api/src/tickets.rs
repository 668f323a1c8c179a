//! One-time tickets for event clients that cannot send an `Authorization`
//! header (browsers' WebSocket and EventSource): the client asks for a
//! ticket with its token, then opens the stream with `?ticket=`. A ticket
//! lives 30 seconds and is used once, so no long-lived token lands in URLs
//! or access logs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::crypto::new_token;

pub const TICKET_TTL: Duration = Duration::from_secs(30);
const MAX_TICKETS: usize = 10_000;

#[derive(Default)]
pub struct Tickets {
    issued: Mutex<HashMap<String, (String, Instant)>>,
}

impl Tickets {
    /// A new ticket standing for the session with this token hash; `None`
    /// when too many are outstanding.
    pub fn issue(&self, session_token_hash: &str) -> Option<String> {
        let mut m = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        m.retain(|_, (_, at)| now.duration_since(*at) < TICKET_TTL);
        if m.len() >= MAX_TICKETS {
            return None;
        }
        let (t, _) = new_token();
        m.insert(t.clone(), (session_token_hash.to_owned(), now));
        Some(t)
    }

    /// The session token hash of a valid ticket, which is used up.
    pub fn redeem(&self, ticket: &str) -> Option<String> {
        let mut m = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let (hash, at) = m.remove(ticket)?;
        (at.elapsed() < TICKET_TTL).then_some(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_used_once() {
        let t = Tickets::default();
        let k = t.issue("h").unwrap();
        assert_eq!(t.redeem(&k).as_deref(), Some("h"));
        assert_eq!(t.redeem(&k), None);
        assert_eq!(t.redeem("forged"), None);
    }
}
