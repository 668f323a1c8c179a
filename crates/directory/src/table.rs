//! A read-only open-addressing table from non-zero `u64` keys (packed
//! numbers, string hashes) to small values, built once per generation.
//!
//! Why not a `HashMap` filled entry by entry: with a million numbers every
//! insert lands on a random cache line (a miss each). Here the entries are
//! first sorted by their home slot, then laid down with linear probing in
//! that order, so the build writes memory front to back. A look-up is one
//! hash and, at a load of at most 3/4, usually one cache line.

/// Marks an empty slot: packed numbers are never 0 (the digit count is in
/// the high bits, see [`crate::numbers::pack`]).
const EMPTY: u64 = 0;

/// Scrambles a key so that its top bits choose the home slot.
fn mix(key: u64) -> u64 {
    let mut z = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z ^= z >> 29;
    z.wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// The table. `V` is small and `Copy`.
#[derive(Clone, Debug)]
pub(crate) struct KeyTable<V> {
    slots: Vec<(u64, V)>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    len: usize,
}

impl<V: Copy> Default for KeyTable<V> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            shift: 64,
            len: 0,
        }
    }
}

impl<V: Copy> KeyTable<V> {
    /// Builds the table from `entries`. When a key repeats, the first entry
    /// in `entries` order after a stable sort by `rank` wins (lowest rank,
    /// then earliest). Entries with the key 0 are dropped.
    pub(crate) fn build(mut entries: Vec<(u64, V)>, rank: impl Fn(&V) -> u8, fill: V) -> Self {
        debug_assert!(entries.len() <= u32::MAX as usize);
        entries.retain(|e| e.0 != EMPTY);
        if entries.is_empty() {
            return Self::default();
        }
        // The winner of each key: lowest (rank, position). Sorting plain
        // integer pairs (position packed in) is much faster than a stable
        // sort calling `rank` in every comparison.
        let mut order: Vec<(u64, u64)> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, v))| (*k, u64::from(rank(v)) << 32 | i as u64))
            .collect();
        order.sort_unstable();
        order.dedup_by_key(|e| e.0);
        let mut entries: Vec<(u64, V)> = order
            .iter()
            .filter_map(|&(k, at)| entries.get((at & 0xffff_ffff) as usize).map(|e| (k, e.1)))
            .collect();
        drop(order);
        // The size depends on the distinct keys only, so the same keys
        // always give the same layout.
        let len = entries.len();
        let wanted = (len + len / 3 + 1).next_power_of_two();
        let bits = wanted.trailing_zeros().max(3);
        let shift = 64 - bits;
        let home = |key: u64| (mix(key) >> shift) as usize;
        entries.sort_unstable_by_key(|(k, _)| (home(*k), *k));
        let cap = 1usize << bits;
        let mut slots = vec![(EMPTY, fill); cap];
        let mut next = 0usize;
        let mut wrapped = Vec::new();
        for (k, v) in entries {
            let at = home(k).max(next);
            match slots.get_mut(at) {
                Some(slot) => {
                    *slot = (k, v);
                    next = at + 1;
                }
                None => wrapped.push((k, v)),
            }
        }
        // Runs that pass the end continue at the start of the table.
        let mut at = 0usize;
        for (k, v) in wrapped {
            while slots.get(at).is_some_and(|s| s.0 != EMPTY) {
                at += 1;
            }
            if let Some(slot) = slots.get_mut(at) {
                *slot = (k, v);
            }
        }
        Self { slots, shift, len }
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: u64) -> Option<V> {
        if self.len == 0 || key == EMPTY {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = (mix(key) >> self.shift) as usize;
        loop {
            let (k, v) = *self.slots.get(at)?;
            if k == key {
                return Some(v);
            }
            if k == EMPTY {
                return None;
            }
            at = (at + 1) & mask;
        }
    }

    /// Number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u64, V)>()
    }

    /// Every key and value (table order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        self.slots.iter().copied().filter(|s| s.0 != EMPTY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The table answers like a map filled in order where a lower rank
        /// replaces and an equal rank keeps the first.
        #[test]
        fn answers_like_a_map(entries in proptest::collection::vec((0u64..300, 0u8..4), 0..400),
                              probes in proptest::collection::vec(0u64..400, 0..50)) {
            let with_seq: Vec<(u64, (u8, usize))> = entries
                .iter()
                .enumerate()
                .map(|(i, (k, r))| (*k, (*r, i)))
                .collect();
            let table = KeyTable::build(with_seq.clone(), |v| v.0, (0, 0));
            let mut map: HashMap<u64, (u8, usize)> = HashMap::new();
            for (k, v) in with_seq {
                if k == 0 {
                    continue;
                }
                let e = map.entry(k).or_insert(v);
                if v.0 < e.0 {
                    *e = v;
                }
            }
            prop_assert_eq!(table.len(), map.len());
            for (k, v) in &map {
                prop_assert_eq!(table.get(*k), Some(*v));
            }
            for p in probes {
                prop_assert_eq!(table.get(p), map.get(&p).copied());
            }
            prop_assert_eq!(table.iter().count(), map.len());
        }
    }

    #[test]
    fn full_runs_wrap_around_the_end() {
        // Keys whose home slots are the last ones of a small table.
        let shift = 64 - 3;
        let last: Vec<u64> = (1..10_000u64)
            .filter(|k| (mix(*k) >> shift) as usize >= 6)
            .take(5)
            .collect();
        let table = KeyTable::build(last.iter().map(|k| (*k, *k)).collect(), |_| 0, 0);
        assert_eq!(table.slots.len(), 8);
        for k in &last {
            assert_eq!(table.get(*k), Some(*k));
        }
        assert_eq!(table.get(0), None);
    }
}
