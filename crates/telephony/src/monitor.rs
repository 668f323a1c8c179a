//! Monitors: one per supervised device, shared by every subscriber.
//!
//! The engine supervises every configured device permanently (as TWP's
//! supervision links do): one `MonitorStart` per device on the link the
//! allocation gave it, whatever the number of subscribers. Subscribers
//! only filter the bus; they never start or stop monitors. A
//! [`DeviceEntry`] holds the device's state behind its own lock, so events
//! of different devices never contend, and a generation counter that
//! tells a snapshot whether events overtook it.

use std::sync::{Mutex, MutexGuard};

use twp_csta::EventKind;

use crate::events::{EventBus, TelephonyEvent};
use crate::state::DeviceState;

pub(crate) struct DeviceEntry {
    pub number: String,
    inner: Mutex<Tracked>,
}

struct Tracked {
    state: DeviceState,
    /// Events applied so far.
    generation: u64,
}

impl DeviceEntry {
    pub fn new(state: DeviceState) -> DeviceEntry {
        DeviceEntry {
            number: state.number.clone(),
            inner: Mutex::new(Tracked {
                state,
                generation: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tracked> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> DeviceState {
        self.lock().state.clone()
    }

    pub fn read<R>(&self, f: impl FnOnce(&DeviceState) -> R) -> R {
        f(&self.lock().state)
    }

    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Applies a CSTA event and publishes what changed. Publishing under
    /// the device's lock keeps the bus order equal to the state order.
    pub fn apply_event(&self, kind: &EventKind, bus: &EventBus) {
        let mut t = self.lock();
        t.generation += 1;
        let out = t.state.apply(kind);
        if !out.is_empty() {
            bus.publish(out);
        }
    }

    /// Runs an update and publishes its events.
    pub fn update(&self, bus: &EventBus, f: impl FnOnce(&mut DeviceState) -> Vec<TelephonyEvent>) {
        let mut t = self.lock();
        let out = f(&mut t.state);
        if !out.is_empty() {
            bus.publish(out);
        }
    }

    /// Like [`DeviceEntry::update`], only if no event was applied since
    /// `generation` was read; returns whether it ran.
    pub fn update_if_unchanged(
        &self,
        generation: u64,
        bus: &EventBus,
        f: impl FnOnce(&mut DeviceState) -> Vec<TelephonyEvent>,
    ) -> bool {
        let mut t = self.lock();
        if t.generation != generation {
            return false;
        }
        let out = f(&mut t.state);
        if !out.is_empty() {
            bus.publish(out);
        }
        true
    }
}
