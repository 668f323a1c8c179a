//! Persisted derived keys (`Generation::derived` / `Generation::restore`):
//! any bytes are either used or refused without panicking, and the derived
//! keys of a generation built from fuzzed numbers restore to the same keys.
//!
//! Input: lines of `number` for contacts' work numbers (lossy UTF-8);
//! the raw input is also offered to `restore` as derived bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twp_dialplan::DialPlan;
use twp_directory::{Contact, ContactField, Generation};

fuzz_target!(|data: &[u8]| {
    let Ok(plan) = DialPlan::default().compile() else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let contacts: Vec<Contact> = text
        .lines()
        .take(64)
        .enumerate()
        .map(|(i, number)| {
            let id = format!("c{i}");
            Contact::new(
                [
                    (ContactField::Id, id.as_str()),
                    (ContactField::Work, number),
                    (ContactField::Standard, "0123456789"),
                ],
                0,
            )
        })
        .collect();
    let g = Generation::build(contacts, &plan);
    let bytes = g.derived();
    let (restored, used) = Generation::restore(g.contacts().to_vec(), &bytes, &plan);
    assert!(used.is_ok());
    assert_eq!(restored.derived(), bytes);
    let _ = Generation::restore(g.contacts().to_vec(), data, &plan);
});
