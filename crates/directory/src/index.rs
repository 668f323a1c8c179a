//! A generation: one directory's complete set of contacts with its indexes
//! (reverse numbers, ids, e-mails, search text). A generation is immutable;
//! a synchronisation builds a new one and swaps it in whole.

use twp_dialplan::CompiledPlan;

use crate::contact::Contact;
use crate::fold::{fold, fold_into, fold_words_into};
use crate::hash::{FastMap, hash_str};
use crate::model::ContactField;
use crate::numbers::{pack, strip_extension};

/// A contact and the field through which a number reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub contact: u32,
    pub field: ContactField,
}

/// A map from hashed string keys to contact indexes; hash collisions go to
/// a small overflow list checked by value.
#[derive(Default)]
struct HashedIndex {
    map: FastMap<u64, u32>,
    overflow: Vec<(Box<str>, u32)>,
}

impl HashedIndex {
    /// Inserts unless the key is present (first wins); `value_of` reads the
    /// key of an indexed contact to tell a duplicate from a collision.
    fn insert(&mut self, key: &str, contact: u32, key_of: impl Fn(u32) -> bool) {
        let h = hash_str(key);
        match self.map.get(&h) {
            None => {
                self.map.insert(h, contact);
            }
            Some(&other) if key_of(other) => {}
            Some(_) => {
                if !self.overflow.iter().any(|(k, _)| &**k == key) {
                    self.overflow.push((key.into(), contact));
                }
            }
        }
    }

    fn get(&self, key: &str, key_of: impl Fn(u32) -> bool) -> Option<u32> {
        match self.map.get(&hash_str(key)) {
            Some(&c) if key_of(c) => Some(c),
            _ => self
                .overflow
                .iter()
                .find(|(k, _)| &**k == key)
                .map(|(_, c)| *c),
        }
    }
}

/// One directory's contacts and indexes.
#[derive(Default)]
pub struct Generation {
    contacts: Vec<Contact>,
    exact: FastMap<u64, Hit>,
    /// Exact keys that do not pack in a `u64` (facility codes, long numbers).
    exact_text: FastMap<Box<str>, Hit>,
    suffix: FastMap<u64, Hit>,
    ids: HashedIndex,
    emails: HashedIndex,
    /// Search text: for contact `i`, `text[starts[i]..starts[i + 1]]`.
    text: Vec<u8>,
    starts: Vec<u32>,
}

/// The sort key of contacts in a generation (search results come in this
/// order): last name, first name, name, folded.
pub(crate) fn sort_key(c: &Contact) -> String {
    let mut key = String::new();
    fold_into(c.get(ContactField::LastName).unwrap_or(""), &mut key);
    key.push('\u{1}');
    fold_into(c.get(ContactField::FirstName).unwrap_or(""), &mut key);
    key.push('\u{1}');
    fold_into(&c.name(), &mut key);
    key
}

impl Generation {
    /// Sorts `contacts` and builds every index. Numbers are made canonical
    /// with `plan`; when several contacts share a number the personal line
    /// wins over the switchboard, then the first in sort order.
    pub fn build(mut contacts: Vec<Contact>, plan: &CompiledPlan) -> Self {
        contacts.sort_by_cached_key(|c| (sort_key(c), c.id().to_owned()));
        let mut g = Self {
            exact: FastMap::with_capacity_and_hasher(contacts.len() * 2, Default::default()),
            suffix: FastMap::with_capacity_and_hasher(contacts.len() * 2, Default::default()),
            starts: Vec::with_capacity(contacts.len() + 1),
            text: Vec::with_capacity(contacts.len() * 64),
            ..Self::default()
        };
        let mut line = String::with_capacity(256);
        for (i, c) in contacts.iter().enumerate() {
            let Ok(index) = u32::try_from(i) else { break };
            g.index_contact(index, c, plan, &contacts, &mut line);
        }
        g.starts.push(g.text.len() as u32);
        g.contacts = contacts;
        g
    }

    fn index_contact(
        &mut self,
        index: u32,
        c: &Contact,
        plan: &CompiledPlan,
        all: &[Contact],
        line: &mut String,
    ) {
        let id_of = |i: u32| all.get(i as usize).map_or("", Contact::id);
        let id = c.id();
        self.ids.insert(id, index, |o| id_of(o) == id);
        for &f in ContactField::EMAILS {
            if let Some(email) = c.get(f) {
                let key = fold(email);
                self.emails.insert(&key, index, |o| {
                    all.get(o as usize).is_some_and(|oc| has_email(oc, &key))
                });
            }
        }
        line.clear();
        for f in [
            ContactField::LastName,
            ContactField::FirstName,
            ContactField::DisplayName,
            ContactField::Company,
        ] {
            if let Some(v) = c.get(f) {
                line.push(' ');
                fold_words_into(v, line);
            }
        }
        for &f in ContactField::PHONES {
            let Some(value) = c.get(f) else { continue };
            let number = strip_extension(value);
            let canonical = plan.canonical(number);
            let keys = plan.lookup_keys(&canonical);
            let hit = Hit {
                contact: index,
                field: f,
            };
            if let Some(exact) = &keys.exact {
                match pack(exact) {
                    Some(k) => keep_best(self.exact.entry(k), hit),
                    None => keep_best(self.exact_text.entry(exact.as_str().into()), hit),
                }
            }
            if let Some(k) = keys.suffix.as_deref().and_then(pack) {
                keep_best(self.suffix.entry(k), hit);
            }
            if !c.is_red_listed(f) {
                // Digits as typed and in canonical form, for number search.
                line.push(' ');
                line.extend(number.chars().filter(char::is_ascii_digit));
                if canonical.number.starts_with('+') {
                    line.push(' ');
                    line.push_str(&canonical.number[1..]);
                }
            }
        }
        line.push('\n');
        self.starts.push(self.text.len() as u32);
        self.text.extend_from_slice(line.as_bytes());
    }

    /// The contacts, in sort order.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// The contact at `index`.
    pub fn contact(&self, index: u32) -> Option<&Contact> {
        self.contacts.get(index as usize)
    }

    /// Index of the contact with this source id.
    pub fn find_id(&self, id: &str) -> Option<u32> {
        self.ids.get(id, |i| {
            self.contacts.get(i as usize).is_some_and(|c| c.id() == id)
        })
    }

    /// Index of the first contact (sort order) having this e-mail, folded.
    pub(crate) fn find_email(&self, folded: &str) -> Option<u32> {
        self.emails.get(folded, |i| {
            self.contacts
                .get(i as usize)
                .is_some_and(|c| has_email(c, folded))
        })
    }

    pub(crate) fn exact(&self, key: &str) -> Option<Hit> {
        match pack(key) {
            Some(k) => self.exact.get(&k).copied(),
            None => self.exact_text.get(key).copied(),
        }
    }

    pub(crate) fn suffix(&self, key: &str) -> Option<Hit> {
        self.suffix.get(&pack(key)?).copied()
    }

    /// The search text of all contacts and each contact's start offset.
    pub(crate) fn text(&self) -> (&[u8], &[u32]) {
        (&self.text, &self.starts)
    }

    /// Approximate heap bytes held by the generation (for the benchmark).
    pub fn heap_size(&self) -> usize {
        let map = |n: usize, entry: usize| n * (entry + 1) * 8 / 7;
        self.contacts.iter().map(Contact::heap_size).sum::<usize>()
            + self.contacts.capacity() * std::mem::size_of::<Contact>()
            + map(self.exact.capacity(), 16)
            + map(self.suffix.capacity(), 16)
            + map(self.ids.map.capacity(), 16)
            + map(self.emails.map.capacity(), 16)
            + self.text.capacity()
            + self.starts.capacity() * 4
    }
}

fn has_email(c: &Contact, folded: &str) -> bool {
    ContactField::EMAILS
        .iter()
        .filter_map(|f| c.get(*f))
        .any(|e| fold(e) == folded)
}

/// Keeps the hit with the better phone rank (personal before switchboard),
/// the first one on a tie.
fn keep_best<K>(entry: std::collections::hash_map::Entry<'_, K, Hit>, hit: Hit) {
    use std::collections::hash_map::Entry;
    match entry {
        Entry::Vacant(v) => {
            v.insert(hit);
        }
        Entry::Occupied(mut o) => {
            if hit.field.phone_rank() < o.get().field.phone_rank() {
                o.insert(hit);
            }
        }
    }
}
