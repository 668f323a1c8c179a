//! The derived keys of a generation, persisted beside its contacts: the
//! reverse-index keys computed with the dialing plan and the folded search
//! text. A restart that finds them (and the same plan and contacts) loads
//! them in bulk instead of calling the dialing plan, folding and sorting.
//!
//! Byte layout (little-endian): magic `TWPDK1\0\0`; plan fingerprint `u64`;
//! contacts digest `u64`; contact count `u32`; exact keys and suffix keys,
//! each a count `u32` then `(key u64, contact u32, field u8)`; exact text
//! keys, a count then `(len u32, bytes, contact u32, field u8)`; the text,
//! a length `u32` then the bytes; one start offset `u32` per contact and
//! one more; last, a checksum `u64` of everything before it.

use std::borrow::Cow;

use thiserror::Error;
use twp_dialplan::CompiledPlan;

use crate::contact::Contact;
use crate::hash::FastHasher;
use crate::index::Hit;
use crate::model::ContactField;

const MAGIC: &[u8; 8] = b"TWPDK1\0\0";

/// Why persisted derived keys were not used (the generation was rebuilt
/// from its contacts instead).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DerivedError {
    /// Not derived keys of this version.
    #[error("derived keys: unknown format (bad magic)")]
    BadMagic,
    /// The bytes end inside `field`.
    #[error("derived keys: truncated in {0}")]
    Truncated(&'static str),
    /// The checksum does not match: the bytes were damaged.
    #[error("derived keys: checksum mismatch")]
    Checksum,
    /// A value is out of range.
    #[error("derived keys: invalid {0}")]
    Invalid(&'static str),
    /// The domain's dialing plan changed since they were computed.
    #[error("derived keys: computed with another dialing plan")]
    PlanChanged,
    /// The contacts are not those the keys were computed for.
    #[error("derived keys: computed for other contacts")]
    ContactsChanged,
}

/// A fingerprint of a dialing plan (its whole settings).
pub(crate) fn plan_fingerprint(plan: &CompiledPlan) -> u64 {
    use std::hash::Hasher;
    let mut h = FastHasher::default();
    h.write(format!("{:?}", plan.plan()).as_bytes());
    h.finish()
}

/// A digest of contacts in order (values, fields, red list).
pub(crate) fn contacts_digest(contacts: &[Contact]) -> u64 {
    use std::hash::Hasher;
    let mut h = FastHasher::default();
    for c in contacts {
        c.digest_into(&mut h);
    }
    h.write_u64(contacts.len() as u64);
    h.finish()
}

fn checksum(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = FastHasher::default();
    h.write(bytes);
    h.write_u64(bytes.len() as u64);
    h.finish()
}

/// The parts of a generation that are persisted (the text borrowed from
/// the generation when encoding, owned when decoded).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Derived<'a> {
    pub plan: u64,
    pub digest: u64,
    pub count: u32,
    pub exact: Vec<(u64, Hit)>,
    pub suffix: Vec<(u64, Hit)>,
    pub exact_text: Vec<(Box<str>, Hit)>,
    pub text: Cow<'a, [u8]>,
    pub starts: Cow<'a, [u32]>,
}

fn put_hit(out: &mut Vec<u8>, hit: Hit) {
    out.extend_from_slice(&hit.contact.to_le_bytes());
    out.push(hit.field as u8);
}

impl Derived<'_> {
    /// The byte form.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + (self.exact.len() + self.suffix.len()) * 13
                + self.text.len()
                + self.starts.len() * 4,
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.plan.to_le_bytes());
        out.extend_from_slice(&self.digest.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        for keys in [&self.exact, &self.suffix] {
            out.extend_from_slice(&(keys.len() as u32).to_le_bytes());
            for (k, hit) in keys {
                out.extend_from_slice(&k.to_le_bytes());
                put_hit(&mut out, *hit);
            }
        }
        out.extend_from_slice(&(self.exact_text.len() as u32).to_le_bytes());
        for (k, hit) in &self.exact_text {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(k.as_bytes());
            put_hit(&mut out, *hit);
        }
        out.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.text);
        for s in self.starts.iter() {
            out.extend_from_slice(&s.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parses the byte form and checks it against `plan` and `contacts`.
    pub(crate) fn decode(
        bytes: &[u8],
        plan: &CompiledPlan,
        contacts: &[Contact],
    ) -> Result<Derived<'static>, DerivedError> {
        let mut r = Reader(bytes);
        if r.take(8, "magic")? != MAGIC {
            return Err(DerivedError::BadMagic);
        }
        let body = bytes
            .len()
            .checked_sub(8)
            .ok_or(DerivedError::Truncated("checksum"))?;
        let (covered, sum) = bytes.split_at(body);
        if Reader(sum).u64("checksum")? != checksum(covered) {
            return Err(DerivedError::Checksum);
        }
        Self::parse_body(covered.get(8..).unwrap_or_default(), plan, contacts)
    }

    /// Everything between the magic and the checksum.
    fn parse_body(
        body: &[u8],
        plan: &CompiledPlan,
        contacts: &[Contact],
    ) -> Result<Derived<'static>, DerivedError> {
        let mut r = Reader(body);
        let plan_print = r.u64("plan")?;
        let digest = r.u64("digest")?;
        let count = r.u32("count")?;
        if plan_print != plan_fingerprint(plan) {
            return Err(DerivedError::PlanChanged);
        }
        if count as usize != contacts.len() || digest != contacts_digest(contacts) {
            return Err(DerivedError::ContactsChanged);
        }
        let mut keys = |what: &'static str| -> Result<Vec<(u64, Hit)>, DerivedError> {
            let n = r.u32(what)? as usize;
            let raw = r.take(
                n.checked_mul(13).ok_or(DerivedError::Truncated(what))?,
                what,
            )?;
            raw.chunks_exact(13)
                .map(|e| {
                    let mut k = [0u8; 8];
                    k.copy_from_slice(&e[..8]);
                    let key = u64::from_le_bytes(k);
                    if key == 0 {
                        return Err(DerivedError::Invalid(what));
                    }
                    Ok((key, hit(&e[8..], count, what)?))
                })
                .collect()
        };
        let exact = keys("exact keys")?;
        let suffix = keys("suffix keys")?;
        let n = r.u32("exact text keys")? as usize;
        let mut exact_text = Vec::with_capacity(n.min(body.len()));
        for _ in 0..n {
            let len = r.u32("exact text key")? as usize;
            let key = std::str::from_utf8(r.take(len, "exact text key")?)
                .map_err(|_| DerivedError::Invalid("exact text key"))?;
            let h = hit(r.take(5, "exact text key")?, count, "exact text key")?;
            exact_text.push((key.into(), h));
        }
        let len = r.u32("text")? as usize;
        let text = r.take(len, "text")?.to_vec();
        let raw = r.take((count as usize + 1) * 4, "starts")?;
        let starts: Vec<u32> = raw
            .chunks_exact(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            .collect();
        let ordered = starts.windows(2).all(|w| w[0] <= w[1]);
        if !ordered || starts.first() != Some(&0) || starts.last() != Some(&(len as u32)) {
            return Err(DerivedError::Invalid("starts"));
        }
        if !r.0.is_empty() {
            return Err(DerivedError::Invalid("trailing bytes"));
        }
        Ok(Derived {
            plan: plan_print,
            digest,
            count,
            exact,
            suffix,
            exact_text,
            text: Cow::Owned(text),
            starts: Cow::Owned(starts),
        })
    }
}

fn hit(b: &[u8], count: u32, what: &'static str) -> Result<Hit, DerivedError> {
    let contact = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let field = ContactField::ALL
        .get(usize::from(b[4]))
        .copied()
        .filter(|f| f.phone_bit().is_some())
        .ok_or(DerivedError::Invalid(what))?;
    if contact >= count {
        return Err(DerivedError::Invalid(what));
    }
    Ok(Hit { contact, field })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DerivedError> {
        if self.0.len() < n {
            return Err(DerivedError::Truncated(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DerivedError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DerivedError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use twp_dialplan::DialPlan;

    fn sample() -> (CompiledPlan, Vec<Contact>, Vec<u8>) {
        let plan = DialPlan::default()
            .compile()
            .unwrap_or_else(|e| panic!("{e}"));
        let contacts: Vec<Contact> = (0..5)
            .map(|i| {
                let id = format!("c{i}");
                let work = format!("01234567{i:02}");
                Contact::new(
                    [
                        (ContactField::Id, id.as_str()),
                        (ContactField::LastName, "Dupont"),
                        (ContactField::Work, work.as_str()),
                        (ContactField::Standard, "*21"),
                    ],
                    0,
                )
            })
            .collect();
        let g = crate::Generation::build(contacts.clone(), &plan);
        let contacts = g.contacts().to_vec();
        (plan, contacts, g.derived())
    }

    #[test]
    fn round_trip() {
        let (plan, contacts, bytes) = sample();
        let d = Derived::decode(&bytes, &plan, &contacts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.exact.len(), 5);
        assert_eq!(d.exact_text.len(), 1);
        assert_eq!(d.encode(), bytes);
    }

    proptest! {
        /// The body parser (past the checksum) refuses or accepts any
        /// change without panicking, and what it accepts points only at
        /// existing contacts, phone fields and text offsets.
        #[test]
        fn body_parser_keeps_its_invariants(at in 0usize..10_000, xor in 1u8..=255, cut in 0usize..10_000) {
            let (plan, contacts, bytes) = sample();
            let mut body = bytes[8..bytes.len() - 8].to_vec();
            let at = at % body.len();
            body[at] ^= xor;
            body.truncate(body.len() - cut % 3);
            if let Ok(d) = Derived::parse_body(&body, &plan, &contacts) {
                let n = contacts.len() as u32;
                let hits = d.exact.iter().chain(&d.suffix).map(|e| e.1);
                for h in hits.chain(d.exact_text.iter().map(|e| e.1)) {
                    prop_assert!(h.contact < n && h.field.phone_bit().is_some());
                }
                prop_assert_eq!(d.starts.len(), contacts.len() + 1);
                prop_assert_eq!(d.starts.last().copied(), Some(d.text.len() as u32));
            }
        }

        #[test]
        fn any_bytes_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (plan, contacts, _) = sample();
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            prop_assert!(Derived::decode(&with_magic, &plan, &contacts).is_err());
            let _ = Derived::parse_body(&bytes, &plan, &contacts);
        }
    }
}
