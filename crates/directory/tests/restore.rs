#![allow(clippy::unwrap_used)]
//! A generation restored after a restart from its persisted contacts and
//! derived keys answers exactly like the one that was synchronised; derived
//! keys that do not fit are refused and the generation is rebuilt.

use std::sync::Arc;

use proptest::prelude::*;
use twp_dialplan::{DialPlan, GlobalParameters};
use twp_directory::generate::{self, Config, CsvEncoding, CsvSink, People};
use twp_directory::*;
use twp_domain::DomainId;

const DOMAIN: DomainId = DomainId(1);

fn directory() -> Directory {
    Directory {
        id: DirectoryId(1),
        domain: DOMAIN,
        name: "people".into(),
        kind: DirectoryType::Public,
        priority: 1,
        merge_contacts: true,
        mapping: generate::mapping().unwrap(),
    }
}

/// An engine synchronised with `config`'s generated people, and its store.
fn synchronised(config: Config) -> (DirectoryEngine, Arc<MemoryPersistence>) {
    let mut bytes = Vec::new();
    {
        let mut main = CsvSink::new(&mut bytes, b';', CsvEncoding::Utf8Bom).unwrap();
        generate::write_all(config, &mut [&mut main]).unwrap();
    }
    let store = Arc::new(MemoryPersistence::new());
    let plan = DialPlan::default().compile().unwrap();
    let e = DirectoryEngine::new(DOMAIN, plan, Arc::clone(&store) as _);
    e.upsert_directory(directory()).unwrap();
    let mut c = CsvConnector::new(CsvSource::Bytes(Arc::from(bytes)), CsvOptions::default());
    e.synchronise(DirectoryId(1), &mut c).unwrap();
    (e, store)
}

/// What a look-up answers, comparably.
fn answer(e: &DirectoryEngine, number: &str) -> Option<(String, ContactField, MatchKind, String)> {
    e.lookup(number, Allowed::All).map(|m| {
        let id = m.profile.found().contact().id().to_owned();
        (id, m.field, m.kind, m.canonical)
    })
}

fn search_ids(e: &DirectoryEngine, text: &str, mode: TextMatch) -> Vec<String> {
    e.search(
        SimpleQuery {
            text,
            mode,
            limit: 20,
            after: None,
        },
        Allowed::All,
    )
    .hits
    .iter()
    .map(|p| p.found().contact().id().to_owned())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_restarted_engine_answers_like_the_synchronised_one(seed in 0u64..10_000, people in 1usize..300) {
        let config = Config { seed, people, duplicate_share: 0.0 };
        let (e, store) = synchronised(config);
        let g = e.generation(DirectoryId(1)).unwrap();

        // The persisted form is used, and it gives back the same bytes.
        let derived = store.load_derived(DirectoryId(1)).unwrap().unwrap();
        let again = g.derived();
        let first_diff = derived.iter().zip(&again).position(|(a, b)| a != b);
        prop_assert!(derived == again, "{} vs {} bytes, first difference at {:?}", derived.len(), again.len(), first_diff);
        let contacts = store.load(DirectoryId(1)).unwrap();
        let (restored, used) = Generation::restore(contacts, &derived, e.plan());
        prop_assert_eq!(used, Ok(()));
        prop_assert_eq!(restored.contacts(), g.contacts());
        prop_assert_eq!(restored.derived(), derived);
        for (i, c) in g.contacts().iter().enumerate() {
            prop_assert_eq!(restored.find_id(c.id()), Some(i as u32));
        }

        // A restarted engine over the same store answers alike.
        let plan = DialPlan::default().compile().unwrap();
        let r = DirectoryEngine::new(DOMAIN, plan, Arc::clone(&store) as _);
        r.upsert_directory(directory()).unwrap();
        for person in People::new(config) {
            for p in person.presented.iter().chain(&person.ambiguous) {
                prop_assert_eq!(answer(&r, &p.number), answer(&e, &p.number), "{}", &p.number);
            }
            let name: String = person.rows[0].values[1].chars().take(3).collect();
            for mode in [TextMatch::Prefix, TextMatch::Contains] {
                prop_assert_eq!(search_ids(&r, &name, mode), search_ids(&e, &name, mode));
            }
        }
        // Numbers nobody has.
        for n in ["0999999999", "+12025550100", "1234"] {
            prop_assert_eq!(answer(&r, n), answer(&e, n));
        }
    }

    #[test]
    fn damaged_derived_keys_are_refused(cut in 0usize..4000, flip in 0usize..4000) {
        let (e, _) = synchronised(Config { seed: 3, people: 40, duplicate_share: 0.0 });
        let g = e.generation(DirectoryId(1)).unwrap();
        let bytes = g.derived();
        let contacts = g.contacts().to_vec();
        // A rebuild from the stored (sorted) contacts; on a number shared
        // with equal rank, "first" is then first in that order.
        let built = Generation::build(contacts.clone(), e.plan()).derived();
        // Cut short: refused, rebuilt.
        let cut = cut % bytes.len();
        let (rebuilt, used) = Generation::restore(contacts.clone(), &bytes[..cut], e.plan());
        prop_assert!(used.is_err());
        prop_assert_eq!(rebuilt.derived(), built.clone());
        // One byte changed anywhere: refused (checksum), rebuilt alike.
        let mut changed = bytes.clone();
        let at = flip % changed.len();
        changed[at] ^= 0x5a;
        let (g2, used) = Generation::restore(contacts, &changed, e.plan());
        prop_assert!(used.is_err());
        prop_assert_eq!(g2.derived(), built);
    }
}

#[test]
fn another_plan_or_other_contacts_rebuild_the_generation() {
    let (e, _) = synchronised(Config {
        seed: 9,
        people: 200,
        duplicate_share: 0.0,
    });
    let g = e.generation(DirectoryId(1)).unwrap();
    let bytes = g.derived();

    // The domain's plan changed: the keys are recomputed with the new one.
    let other = DialPlan::new(GlobalParameters {
        internal_reverse_length: 7,
        ..GlobalParameters::default()
    })
    .compile()
    .unwrap();
    let (rebuilt, used) = Generation::restore(g.contacts().to_vec(), &bytes, &other);
    assert_eq!(used, Err(DerivedError::PlanChanged));
    let fresh = Generation::build(g.contacts().to_vec(), &other);
    assert_eq!(rebuilt.derived(), fresh.derived());
    assert_ne!(rebuilt.derived(), bytes);

    // A contact changed in the store since: the keys are not trusted.
    let mut contacts = g.contacts().to_vec();
    let first = &contacts[0];
    let work = ContactField::Work.phone_bit().unwrap();
    contacts[0] = Contact::new(first.fields(), first.red_list() ^ work);
    let (_, used) = Generation::restore(contacts, &bytes, e.plan());
    assert_eq!(used, Err(DerivedError::ContactsChanged));

    // Not derived keys at all.
    let (_, used) = Generation::restore(g.contacts().to_vec(), b"hello", e.plan());
    assert_eq!(used, Err(DerivedError::Truncated("magic")));
    let (_, used) = Generation::restore(g.contacts().to_vec(), b"hello world!", e.plan());
    assert_eq!(used, Err(DerivedError::BadMagic));
}
