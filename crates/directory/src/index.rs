//! A generation: one directory's complete set of contacts with its indexes
//! (reverse numbers, ids, e-mails, search text). A generation is immutable;
//! a synchronisation builds a new one and swaps it in whole.

use std::borrow::Cow;

use twp_dialplan::CompiledPlan;

use crate::contact::Contact;
use crate::derived::{Derived, DerivedError, contacts_digest, plan_fingerprint};
use crate::fold::{fold, fold_into, fold_words_into, folds_to};
use crate::hash::{FastMap, hash_str};
use crate::model::ContactField;
use crate::numbers::{pack, strip_extension};
use crate::table::KeyTable;

/// A contact and the field through which a number reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub contact: u32,
    pub field: ContactField,
}

/// A map from hashed string keys (ids, folded e-mails) to contact indexes,
/// built once; hash collisions go to a small overflow list checked by value.
#[derive(Default)]
struct HashedIndex {
    table: KeyTable<u32>,
    overflow: Vec<(Box<str>, u32)>,
}

/// The table key of a string (never 0, the table's empty mark).
fn string_key(s: &str) -> u64 {
    hash_str(s).max(1)
}

impl HashedIndex {
    /// Builds the index from `(key, contact, slot)` in order: the first
    /// contact of a key wins. `text_of(contact, slot)` gives an entry's key
    /// and `has(contact, key)` whether a contact has it, to tell a
    /// duplicate from a hash collision (rare: only those are compared).
    fn build(
        entries: Vec<(u64, u32, u8)>,
        text_of: impl Fn(u32, u8) -> Option<String>,
        has: impl Fn(u32, &str) -> bool,
    ) -> Self {
        let table = KeyTable::build(entries.iter().map(|e| (e.0, e.1)).collect(), |_| 0, 0);
        let mut overflow: Vec<(Box<str>, u32)> = Vec::new();
        for (h, contact, slot) in entries {
            let Some(first) = table.get(h) else { continue };
            if first == contact {
                continue;
            }
            let Some(key) = text_of(contact, slot) else {
                continue;
            };
            if !has(first, &key) && !overflow.iter().any(|(k, _)| **k == *key) {
                overflow.push((key.into(), contact));
            }
        }
        Self { table, overflow }
    }

    fn get(&self, key: &str, key_of: impl Fn(u32) -> bool) -> Option<u32> {
        match self.table.get(string_key(key)) {
            Some(c) if key_of(c) => Some(c),
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
    exact: KeyTable<Hit>,
    /// Exact keys that do not pack in a `u64` (facility codes, long numbers).
    exact_text: FastMap<Box<str>, Hit>,
    suffix: KeyTable<Hit>,
    ids: HashedIndex,
    emails: HashedIndex,
    /// Search text: for contact `i`, `text[starts[i]..starts[i + 1]]`.
    text: Vec<u8>,
    starts: Vec<u32>,
    /// Word-prefix index: first 3 bytes of every word of at least 3 bytes
    /// in the search text → `(start, len)` in `postings`: the contacts
    /// having such a word, in order.
    prefixes: FastMap<u32, (u32, u32)>,
    postings: Vec<u32>,
    /// Fingerprint of the dialing plan the keys were computed with.
    plan: u64,
}

/// Key of the word-prefix index: the first 3 bytes of a word.
pub(crate) fn prefix_key(word: &[u8]) -> Option<u32> {
    match word {
        [a, b, c, ..] => Some(u32::from_le_bytes([*a, *b, *c, 0])),
        _ => None,
    }
}

/// The sort key of contacts in a generation (search results come in this
/// order): last name, first name, name, folded.
pub(crate) fn sort_key(c: &Contact) -> String {
    let mut key = String::new();
    sort_key_into(c, &mut key);
    key
}

fn sort_key_into(c: &Contact, key: &mut String) {
    fold_into(c.get(ContactField::LastName).unwrap_or(""), key);
    key.push('\u{1}');
    fold_into(c.get(ContactField::FirstName).unwrap_or(""), key);
    key.push('\u{1}');
    match c.get(ContactField::DisplayName) {
        Some(d) => fold_into(d, key),
        None => fold_into(&c.name(), key),
    }
}

/// The order of contacts by (sort key, id): `order[new] = old`. Keys and
/// ids are laid out in one buffer and the first 16 bytes compared as an
/// integer, so most comparisons touch no memory but the sorted array.
fn sort_order(contacts: &[Contact]) -> Vec<u32> {
    let mut keys = String::with_capacity(contacts.len() * 40);
    let mut at = Vec::with_capacity(contacts.len() + 1);
    let mut order: Vec<(u128, u32)> = Vec::with_capacity(contacts.len());
    for (i, c) in contacts.iter().enumerate() {
        let start = keys.len();
        at.push(start);
        sort_key_into(c, &mut keys);
        keys.push('\0');
        keys.push_str(c.id());
        let mut head = [0u8; 16];
        let bytes = &keys.as_bytes()[start..];
        let n = bytes.len().min(16);
        head[..n].copy_from_slice(&bytes[..n]);
        order.push((u128::from_be_bytes(head), i as u32));
    }
    at.push(keys.len());
    let key = |i: u32| &keys.as_bytes()[at[i as usize]..at[i as usize + 1]];
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(key(b.1))));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Id and e-mail entries `(key, contact, slot)` of the indexes.
type KeyEntries = Vec<(u64, u32, u8)>;

/// The id and e-mail entries of `all`, numbered in their order.
fn key_entries(all: &[Contact]) -> (KeyEntries, KeyEntries) {
    let mut ids = Vec::with_capacity(all.len());
    let mut emails = Vec::with_capacity(all.len());
    let mut folded = String::new();
    for (i, c) in all.iter().enumerate() {
        let Ok(index) = u32::try_from(i) else { break };
        ids.push((string_key(c.id()), index, 0));
        for (slot, &f) in ContactField::EMAILS.iter().enumerate() {
            if let Some(email) = c.get(f) {
                folded.clear();
                fold_into(email, &mut folded);
                emails.push((string_key(&folded), index, slot as u8));
            }
        }
    }
    (ids, emails)
}

/// The id and e-mail indexes from their entries, numbered as `all`.
fn key_indexes_from(
    ids: KeyEntries,
    emails: KeyEntries,
    all: &[Contact],
) -> (HashedIndex, HashedIndex) {
    let contact = |i: u32| all.get(i as usize);
    let ids = HashedIndex::build(
        ids,
        |i, _| contact(i).map(|c| c.id().to_owned()),
        |i, id| contact(i).is_some_and(|c| c.id() == id),
    );
    let emails = HashedIndex::build(
        emails,
        |i, slot| {
            let field = ContactField::EMAILS.get(usize::from(slot))?;
            contact(i)?.get(*field).map(fold)
        },
        |i, key| contact(i).is_some_and(|c| has_email(c, key)),
    );
    (ids, emails)
}

/// The id and e-mail indexes of contacts in their final order.
fn key_indexes(all: &[Contact]) -> (HashedIndex, HashedIndex) {
    let (ids, emails) = key_entries(all);
    key_indexes_from(ids, emails, all)
}

/// The search text of every contact in source order (renumbered when the
/// contacts are sorted): contact `i`'s line is `text[at[i]..at[i + 1]]`.
struct Lines {
    text: Vec<u8>,
    at: Vec<u32>,
}

impl Lines {
    fn build(contacts: &[Contact], numbers: &Numbers) -> Self {
        let mut text = Vec::with_capacity(contacts.len() * 64);
        let mut at = Vec::with_capacity(contacts.len() + 1);
        let mut line = String::with_capacity(256);
        for (i, c) in contacts.iter().enumerate() {
            line.clear();
            names_text(c, &mut line);
            line.push_str(numbers.digits_of(i));
            line.push('\n');
            at.push(text.len() as u32);
            text.extend_from_slice(line.as_bytes());
        }
        at.push(text.len() as u32);
        Self { text, at }
    }

    fn line(&self, i: usize) -> &[u8] {
        match (self.at.get(i), self.at.get(i + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// The names part of a contact's search text.
fn names_text(c: &Contact, line: &mut String) {
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
}

/// The reverse index of one generation, built apart (on its own thread)
/// with contact indexes in source order, then renumbered.
#[derive(Default)]
pub(crate) struct Numbers {
    /// Packed exact and suffix keys in the order found; the tables are
    /// built from them once all contacts are known.
    exact: Vec<(u64, Hit)>,
    exact_text: FastMap<Box<str>, Hit>,
    suffix: Vec<(u64, Hit)>,
    /// Digits of visible numbers (as typed and canonical) for the search
    /// text: contact `i`'s are `digits[at[i]..at[i + 1]]`.
    digits: String,
    at: Vec<u32>,
    standard: FastMap<Box<str>, Keys>,
}

/// Canonical keys of one directory number, cached for repeated values.
#[derive(Clone)]
struct Keys {
    exact: Option<String>,
    suffix: Option<u64>,
    canonical: String,
}

/// Largest number of cached switchboard numbers per generation.
const STANDARD_CACHE: usize = 4096;

impl Numbers {
    /// An empty index for about `hint` contacts.
    pub(crate) fn new(hint: usize) -> Self {
        Self {
            exact: Vec::with_capacity(hint * 2),
            suffix: Vec::with_capacity(hint * 2),
            digits: String::with_capacity(hint * 24),
            at: Vec::with_capacity(hint + 1),
            ..Self::default()
        }
    }

    fn build(contacts: &[Contact], plan: &CompiledPlan) -> Self {
        let mut n = Self::new(contacts.len());
        n.add(contacts, plan);
        n
    }

    /// Indexes the next contacts (their indexes follow the previous ones).
    pub(crate) fn add(&mut self, contacts: &[Contact], plan: &CompiledPlan) {
        for c in contacts {
            let Ok(index) = u32::try_from(self.at.len()) else {
                break;
            };
            self.at.push(self.digits.len() as u32);
            for &f in ContactField::PHONES {
                let Some(value) = c.get(f) else { continue };
                let number = strip_extension(value);
                // The switchboard number repeats across a company's contacts.
                let keys = match (f, self.standard.get(number)) {
                    (ContactField::Standard, Some(k)) => k.clone(),
                    _ => {
                        let canonical = plan.canonical(number);
                        let lookup = plan.lookup_keys(&canonical);
                        let keys = Keys {
                            exact: lookup.exact,
                            suffix: lookup.suffix.as_deref().and_then(pack),
                            canonical: canonical.number,
                        };
                        if f == ContactField::Standard && self.standard.len() < STANDARD_CACHE {
                            self.standard.insert(number.into(), keys.clone());
                        }
                        keys
                    }
                };
                let hit = Hit {
                    contact: index,
                    field: f,
                };
                if let Some(exact) = &keys.exact {
                    match pack(exact) {
                        Some(k) => self.exact.push((k, hit)),
                        None => keep_best(self.exact_text.entry(exact.as_str().into()), hit),
                    }
                }
                if let Some(k) = keys.suffix {
                    self.suffix.push((k, hit));
                }
                if !c.is_red_listed(f) {
                    self.digits.push(' ');
                    self.digits
                        .extend(number.chars().filter(char::is_ascii_digit));
                    if let Some(e164) = keys.canonical.strip_prefix('+') {
                        self.digits.push(' ');
                        self.digits.push_str(e164);
                    }
                }
            }
        }
    }

    /// The number of contacts indexed.
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    fn digits_of(&self, old: usize) -> &str {
        let end = self
            .at
            .get(old + 1)
            .map_or(self.digits.len(), |e| *e as usize);
        match self.at.get(old) {
            Some(&a) => self.digits.get(a as usize..end).unwrap_or(""),
            None => "",
        }
    }

    /// Renumbers hits from source order to sort order.
    fn renumber(&mut self, new_of_old: &[u32]) {
        let fix = |h: &mut Hit| h.contact = new_of_old[h.contact as usize];
        self.exact.iter_mut().for_each(|(_, h)| fix(h));
        self.exact_text.values_mut().for_each(fix);
        self.suffix.iter_mut().for_each(|(_, h)| fix(h));
    }

    /// The exact and suffix tables. On a shared key the personal line
    /// wins over the switchboard, then the first found (source order).
    fn tables(exact: Vec<(u64, Hit)>, suffix: Vec<(u64, Hit)>) -> (KeyTable<Hit>, KeyTable<Hit>) {
        let fill = Hit {
            contact: 0,
            field: ContactField::Standard,
        };
        let rank = |h: &Hit| h.field.phone_rank();
        std::thread::scope(|s| {
            let suffix = s.spawn(move || KeyTable::build(suffix, rank, fill));
            let exact = KeyTable::build(exact, rank, fill);
            (exact, suffix.join().unwrap_or_default())
        })
    }
}

impl Generation {
    /// Sorts `contacts` and builds every index. Numbers are made canonical
    /// with `plan`; when several contacts share a number the personal line
    /// wins over the switchboard, then the first in source order. The
    /// reverse index is built on a second thread while the contacts sort.
    pub fn build(contacts: Vec<Contact>, plan: &CompiledPlan) -> Self {
        Self::assemble(contacts, None, plan)
    }

    /// [`Generation::build`] with the reverse index already built (by a
    /// synchronisation, while it read the source); it must cover exactly
    /// `contacts`, else it is rebuilt.
    pub(crate) fn build_with(
        contacts: Vec<Contact>,
        numbers: Numbers,
        plan: &CompiledPlan,
    ) -> Self {
        Self::assemble(contacts, Some(numbers), plan)
    }

    fn assemble(contacts: Vec<Contact>, numbers: Option<Numbers>, plan: &CompiledPlan) -> Self {
        let numbers = numbers.filter(|n| n.len() == contacts.len());
        // Both cores: the sort (and id and e-mail keys) on this thread; the
        // reverse index if needed, then the search text in source order, on
        // the other. Both are renumbered once the order is known.
        let (order, numbers, lines, (ids, emails)) = std::thread::scope(|s| {
            let side = s.spawn(|| {
                let numbers = numbers.unwrap_or_else(|| Numbers::build(&contacts, plan));
                let lines = Lines::build(&contacts, &numbers);
                (numbers, lines)
            });
            let order = sort_order(&contacts);
            let keys = key_entries(&contacts);
            let (numbers, lines) = side.join().unwrap_or_else(|_| {
                let numbers = Numbers::build(&contacts, plan);
                let lines = Lines::build(&contacts, &numbers);
                (numbers, lines)
            });
            (order, numbers, lines, keys)
        });
        let mut numbers = numbers;
        let mut new_of_old = vec![0u32; contacts.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of_old[old as usize] = new as u32;
        }
        numbers.renumber(&new_of_old);
        let renumber = |mut entries: KeyEntries| {
            for e in &mut entries {
                e.1 = new_of_old[e.1 as usize];
            }
            entries
        };
        let (ids, emails) = (renumber(ids), renumber(emails));
        let mut slots: Vec<Option<Contact>> = contacts.into_iter().map(Some).collect();
        let contacts: Vec<Contact> = order
            .iter()
            .filter_map(|&old| slots.get_mut(old as usize).and_then(Option::take))
            .collect();
        drop(slots);

        let n = contacts.len();
        let mut g = Self {
            starts: Vec::with_capacity(n + 1),
            text: Vec::with_capacity(lines.text.len()),
            ..Self::default()
        };
        // The number tables, ids and e-mails on a second thread while the
        // text is laid out in order and its word prefixes indexed.
        let Numbers {
            exact,
            suffix,
            exact_text,
            ..
        } = numbers;
        let (exact, suffix, ids, emails) = std::thread::scope(|s| {
            let side = s.spawn(|| {
                let (ids, emails) = key_indexes_from(ids, emails, &contacts);
                let (exact, suffix) = Numbers::tables(exact, suffix);
                (exact, suffix, ids, emails)
            });
            for &old in &order {
                g.starts.push(g.text.len() as u32);
                g.text.extend_from_slice(lines.line(old as usize));
            }
            g.starts.push(g.text.len() as u32);
            drop(lines);
            g.build_prefixes();
            // A panic there is a bug: passed on, never an empty index.
            side.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        });
        g.ids = ids;
        g.emails = emails;
        g.plan = plan_fingerprint(plan);
        g.exact = exact;
        g.exact_text = exact_text;
        g.suffix = suffix;
        g.contacts = contacts;
        g
    }

    /// The derived keys to persist beside [`Generation::contacts`]: the
    /// reverse-index keys made with the dialing plan and the folded search
    /// text (format in the `derived` module). [`Generation::restore`] reads
    /// them back.
    pub fn derived(&self) -> Vec<u8> {
        // The contacts digest (a pass over all values) beside the keys.
        std::thread::scope(|s| {
            let digest = s.spawn(|| contacts_digest(&self.contacts));
            let mut exact_text: Vec<(Box<str>, Hit)> = self
                .exact_text
                .iter()
                .map(|(k, h)| (k.clone(), *h))
                .collect();
            exact_text.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let exact = self.exact.iter().collect();
            let suffix = self.suffix.iter().collect();
            Derived {
                plan: self.plan,
                digest: digest
                    .join()
                    .unwrap_or_else(|_| contacts_digest(&self.contacts)),
                count: self.contacts.len() as u32,
                exact,
                suffix,
                exact_text,
                text: Cow::Borrowed(&self.text),
                starts: Cow::Borrowed(&self.starts),
            }
            .encode()
        })
    }

    /// Rebuilds a generation after a restart from its persisted contacts
    /// (in [`Generation::contacts`] order) and [`Generation::derived`]
    /// bytes: no dialing plan, folding or sorting. When the bytes are
    /// unreadable, were made with another plan or for other contacts, the
    /// generation is built from the contacts ([`Generation::build`]) and
    /// the second value says why.
    pub fn restore(
        contacts: Vec<Contact>,
        derived: &[u8],
        plan: &CompiledPlan,
    ) -> (Self, Result<(), DerivedError>) {
        match Derived::decode(derived, plan, &contacts) {
            Ok(d) => (Self::from_derived(contacts, d), Ok(())),
            Err(e) => (Self::build(contacts, plan), Err(e)),
        }
    }

    fn from_derived(contacts: Vec<Contact>, d: Derived) -> Self {
        let mut g = Self {
            text: d.text.into_owned(),
            starts: d.starts.into_owned(),
            plan: d.plan,
            exact_text: d.exact_text.into_iter().collect(),
            ..Self::default()
        };
        let (exact, suffix) = (d.exact, d.suffix);
        let (ids, emails, exact, suffix) = std::thread::scope(|s| {
            let keys = s.spawn(|| key_indexes(&contacts));
            let (exact, suffix) = Numbers::tables(exact, suffix);
            g.build_prefixes();
            let (ids, emails) = keys.join().unwrap_or_else(|_| key_indexes(&contacts));
            (ids, emails, exact, suffix)
        });
        g.ids = ids;
        g.emails = emails;
        g.exact = exact;
        g.suffix = suffix;
        g.contacts = contacts;
        g
    }

    /// The word-prefix index, in two passes over the search text (count,
    /// then fill one flat postings array): no per-key vectors to grow.
    fn build_prefixes(&mut self) {
        let mut counts: FastMap<u32, (u32, u32)> = FastMap::default();
        self.for_each_word_key(|key, index| {
            let e = counts.entry(key).or_insert((0, u32::MAX));
            if e.1 != index {
                e.0 += 1;
                e.1 = index;
            }
        });
        let mut next = 0u32;
        let mut slots: FastMap<u32, (u32, u32)> =
            FastMap::with_capacity_and_hasher(counts.len(), Default::default());
        for (key, (count, _)) in &counts {
            slots.insert(*key, (next, 0));
            next += count;
        }
        let mut postings = vec![0u32; next as usize];
        self.for_each_word_key(|key, index| {
            if let Some((start, len)) = slots.get_mut(&key) {
                let at = (*start + *len) as usize;
                if *len == 0 || postings.get(at - 1) != Some(&index) {
                    if let Some(p) = postings.get_mut(at) {
                        *p = index;
                        *len += 1;
                    }
                }
            }
        });
        self.prefixes = slots;
        self.postings = postings;
    }

    fn for_each_word_key(&self, mut f: impl FnMut(u32, u32)) {
        for (i, w) in self.starts.windows(2).enumerate() {
            let text = &self.text[w[0] as usize..w[1] as usize];
            for word in text.split(|b| *b == b' ' || *b == b'\n') {
                if let Some(key) = prefix_key(word) {
                    f(key, i as u32);
                }
            }
        }
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
            Some(k) => self.exact.get(k),
            None => self.exact_text.get(key).copied(),
        }
    }

    pub(crate) fn suffix(&self, key: &str) -> Option<Hit> {
        self.suffix.get(pack(key)?)
    }

    /// The search text of all contacts and each contact's start offset.
    pub(crate) fn text(&self) -> (&[u8], &[u32]) {
        (&self.text, &self.starts)
    }

    /// Contacts having a word that starts with the 3 bytes of `key`.
    pub(crate) fn prefix_postings(&self, key: u32) -> &[u32] {
        self.prefixes
            .get(&key)
            .and_then(|&(start, len)| self.postings.get(start as usize..(start + len) as usize))
            .unwrap_or(&[])
    }

    /// Approximate heap bytes held by the generation (for the benchmark).
    pub fn heap_size(&self) -> usize {
        let map = |n: usize, entry: usize| n * (entry + 1) * 8 / 7;
        self.contacts.iter().map(Contact::heap_size).sum::<usize>()
            + self.contacts.capacity() * std::mem::size_of::<Contact>()
            + self.exact.heap_size()
            + self.suffix.heap_size()
            + self.ids.table.heap_size()
            + self.emails.table.heap_size()
            + self.text.capacity()
            + self.starts.capacity() * 4
            + map(self.prefixes.capacity(), 12)
            + self.postings.capacity() * 4
    }
}

fn has_email(c: &Contact, folded: &str) -> bool {
    ContactField::EMAILS
        .iter()
        .filter_map(|f| c.get(*f))
        .any(|e| folds_to(e, folded))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_index_keeps_the_first_and_tells_collisions_from_duplicates() {
        // Keys "a", "b", "a", "c": "b" and "c" are forced onto the hash of "a".
        let keys = ["a", "b", "a", "c", "b"];
        let entries: Vec<(u64, u32, u8)> = (0..keys.len() as u32).map(|i| (7, i, 0)).collect();
        let index = HashedIndex::build(
            entries,
            |i, _| keys.get(i as usize).map(|k| (*k).to_owned()),
            |i, k| keys.get(i as usize) == Some(&k),
        );
        // Only the first "b" goes to the overflow, and "a" keeps contact 0.
        let want: Vec<(Box<str>, u32)> = vec![("b".into(), 1), ("c".into(), 3)];
        assert_eq!(index.overflow, want);
        assert_eq!(index.table.get(7), Some(0));
    }
}
