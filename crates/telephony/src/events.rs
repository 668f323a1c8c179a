//! The event bus: typed telephony events fanned out to subscribers.
//!
//! Every event gets the next sequence number and is kept in a bounded
//! history so a client that was cut off can resume after the last number
//! it saw ([`EventBus::subscribe`] with `after`). Each subscriber chooses
//! devices (or all) and has its own bounded queue. Publishing never waits:
//! when a subscriber's queue is full it is dropped from the bus with the
//! close reason [`CloseReason::Lagged`]; it still reads what was queued, then
//! gets the reason. Nobody else is delayed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::mpsc;

use crate::state::{Activity, CallView, Forward};

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelephonyEvent {
    /// Supervision, activity, do-not-disturb or message waiting changed.
    DeviceStateChanged {
        device: String,
        supervised: bool,
        activity: Activity,
        do_not_disturb: bool,
        message_waiting: bool,
    },
    /// A call at the device changed; `call.state` is `Null` when it ended
    /// for the device. `cause` is the ECMA-269 event cause when known.
    CallStateChanged {
        device: String,
        call: CallView,
        cause: Option<String>,
    },
    /// The active forwarding rules of the device.
    ForwardingChanged {
        device: String,
        forwarding: Vec<Forward>,
    },
    /// A supervision link went up or down (sent to every subscriber).
    LinkStateChanged {
        link: usize,
        connected: bool,
        reason: Option<String>,
    },
}

impl TelephonyEvent {
    /// The device the event is about; `None` for link events.
    pub fn device(&self) -> Option<&str> {
        match self {
            TelephonyEvent::DeviceStateChanged { device, .. }
            | TelephonyEvent::CallStateChanged { device, .. }
            | TelephonyEvent::ForwardingChanged { device, .. } => Some(device),
            TelephonyEvent::LinkStateChanged { .. } => None,
        }
    }
}

/// An event with its sequence number (starting at 1, no gaps on the bus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub seq: u64,
    pub event: TelephonyEvent,
}

/// Which events a subscriber wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    /// Events of these devices, plus link events.
    Devices(HashSet<String>),
}

impl Filter {
    pub fn devices<I: IntoIterator<Item = S>, S: Into<String>>(devices: I) -> Filter {
        Filter::Devices(devices.into_iter().map(Into::into).collect())
    }

    fn wants(&self, event: &TelephonyEvent) -> bool {
        match (self, event.device()) {
            (Filter::All, _) | (_, None) => true,
            (Filter::Devices(set), Some(d)) => set.contains(d),
        }
    }
}

/// Why a subscription ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    #[error(
        "subscriber too slow: its queue of {capacity} events filled up; resubscribe with after = {last_delivered} to resume"
    )]
    Lagged {
        capacity: usize,
        /// Sequence number of the last event queued for it.
        last_delivered: u64,
    },
    #[error("the telephony service is shutting down")]
    Shutdown,
}

/// Why a subscription could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    #[error(
        "cannot resume after event {after}: the history starts at {oldest}; read the current device states and subscribe without `after`"
    )]
    HistoryGap { after: u64, oldest: u64 },
    #[error("event {after} has not been published yet (last is {last})")]
    FromTheFuture { after: u64, last: u64 },
    #[error("the telephony service is shutting down")]
    Shutdown,
}

struct Slot {
    filter: Filter,
    tx: mpsc::Sender<Arc<Envelope>>,
    reason: Arc<OnceLock<CloseReason>>,
    capacity: usize,
    last: u64,
}

struct Inner {
    seq: u64,
    history: VecDeque<Arc<Envelope>>,
    history_len: usize,
    next_id: u64,
    slots: HashMap<u64, Slot>,
    /// Subscribers per device, and those that want all devices.
    by_device: HashMap<String, Vec<u64>>,
    all: Vec<u64>,
    closed: bool,
    lagged: u64,
}

/// The fan-out bus; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Mutex<Inner>>,
}

/// A subscriber's end.
pub struct Subscription {
    id: u64,
    rx: mpsc::Receiver<Arc<Envelope>>,
    reason: Arc<OnceLock<CloseReason>>,
    bus: EventBus,
}

impl EventBus {
    /// A bus keeping the last `history` events for resumption.
    pub fn new(history: usize) -> EventBus {
        EventBus {
            inner: Arc::new(Mutex::new(Inner {
                seq: 0,
                history: VecDeque::with_capacity(history.min(65_536)),
                history_len: history,
                next_id: 1,
                slots: HashMap::new(),
                by_device: HashMap::new(),
                all: Vec::new(),
                closed: false,
                lagged: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes with a queue of `capacity` events. With `after`, the
    /// events published after that sequence number are queued first (they
    /// must still be in the history).
    pub fn subscribe(
        &self,
        filter: Filter,
        capacity: usize,
        after: Option<u64>,
    ) -> Result<Subscription, SubscribeError> {
        let capacity = capacity.max(1);
        let mut inner = self.lock();
        if inner.closed {
            return Err(SubscribeError::Shutdown);
        }
        let backlog: Vec<Arc<Envelope>> = match after {
            None => Vec::new(),
            Some(after) if after > inner.seq => {
                return Err(SubscribeError::FromTheFuture {
                    after,
                    last: inner.seq,
                });
            }
            Some(after) => {
                let oldest = inner.history.front().map_or(inner.seq + 1, |e| e.seq);
                if after + 1 < oldest {
                    return Err(SubscribeError::HistoryGap { after, oldest });
                }
                inner
                    .history
                    .iter()
                    .filter(|e| e.seq > after && filter.wants(&e.event))
                    .cloned()
                    .collect()
            }
        };
        let (tx, rx) = mpsc::channel(capacity.max(backlog.len()));
        let mut last = after.unwrap_or(inner.seq);
        for e in backlog {
            last = e.seq;
            let _ = tx.try_send(e);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        match &filter {
            Filter::All => inner.all.push(id),
            Filter::Devices(set) => {
                for d in set {
                    inner.by_device.entry(d.clone()).or_default().push(id);
                }
            }
        }
        let reason = Arc::new(OnceLock::new());
        inner.slots.insert(
            id,
            Slot {
                filter,
                tx,
                reason: reason.clone(),
                capacity,
                last,
            },
        );
        Ok(Subscription {
            id,
            rx,
            reason,
            bus: self.clone(),
        })
    }

    /// Publishes events; returns the sequence number of the last one.
    pub fn publish(&self, events: impl IntoIterator<Item = TelephonyEvent>) -> u64 {
        let mut inner = self.lock();
        if inner.closed {
            return inner.seq;
        }
        for event in events {
            inner.seq += 1;
            let env = Arc::new(Envelope {
                seq: inner.seq,
                event,
            });
            if inner.history_len > 0 {
                if inner.history.len() == inner.history_len {
                    inner.history.pop_front();
                }
                inner.history.push_back(env.clone());
            }
            let mut targets: Vec<u64> = inner.all.clone();
            match env.event.device() {
                Some(d) => {
                    if let Some(ids) = inner.by_device.get(d) {
                        targets.extend_from_slice(ids);
                    }
                }
                None => targets.extend(inner.slots.keys().filter(|id| !inner.all.contains(id))),
            }
            let mut lagged = Vec::new();
            for id in targets {
                let Some(slot) = inner.slots.get_mut(&id) else {
                    continue;
                };
                match slot.tx.try_send(env.clone()) {
                    Ok(()) => slot.last = env.seq,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        let _ = slot.reason.set(CloseReason::Lagged {
                            capacity: slot.capacity,
                            last_delivered: slot.last,
                        });
                        lagged.push(id);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => lagged.push(id),
                }
            }
            for id in lagged {
                if inner
                    .slots
                    .get(&id)
                    .is_some_and(|s| s.reason.get().is_some())
                {
                    inner.lagged += 1;
                    tracing::info!(subscriber = id, "event subscriber too slow, disconnected");
                }
                inner.remove(id);
            }
        }
        inner.seq
    }

    /// The last sequence number published.
    pub fn last_seq(&self) -> u64 {
        self.lock().seq
    }

    pub fn subscriber_count(&self) -> usize {
        self.lock().slots.len()
    }

    /// Subscribers disconnected for being too slow, since start.
    pub fn lagged_count(&self) -> u64 {
        self.lock().lagged
    }

    /// Ends every subscription with [`CloseReason::Shutdown`].
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        let ids: Vec<u64> = inner.slots.keys().copied().collect();
        for id in ids {
            if let Some(s) = inner.slots.get(&id) {
                let _ = s.reason.set(CloseReason::Shutdown);
            }
            inner.remove(id);
        }
    }
}

impl Inner {
    fn remove(&mut self, id: u64) {
        let Some(slot) = self.slots.remove(&id) else {
            return;
        };
        match slot.filter {
            Filter::All => self.all.retain(|x| *x != id),
            Filter::Devices(set) => {
                for d in set {
                    if let Some(v) = self.by_device.get_mut(&d) {
                        v.retain(|x| *x != id);
                        if v.is_empty() {
                            self.by_device.remove(&d);
                        }
                    }
                }
            }
        }
    }
}

impl Subscription {
    /// The next event; after the queue is drained of a closed
    /// subscription, why it was closed.
    pub async fn recv(&mut self) -> Result<Arc<Envelope>, CloseReason> {
        match self.rx.recv().await {
            Some(e) => Ok(e),
            None => Err(self.reason.get().cloned().unwrap_or(CloseReason::Shutdown)),
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Result<Arc<Envelope>, CloseReason>> {
        match self.rx.try_recv() {
            Ok(e) => Some(Ok(e)),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => Some(Err(self
                .reason
                .get()
                .cloned()
                .unwrap_or(CloseReason::Shutdown))),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(n: usize) -> TelephonyEvent {
        TelephonyEvent::LinkStateChanged {
            link: n,
            connected: true,
            reason: None,
        }
    }

    fn dnd(device: &str) -> TelephonyEvent {
        TelephonyEvent::DeviceStateChanged {
            device: device.into(),
            supervised: true,
            activity: Activity::Idle,
            do_not_disturb: true,
            message_waiting: false,
        }
    }

    #[tokio::test]
    async fn filters_and_sequence() {
        let bus = EventBus::new(16);
        let mut all = bus.subscribe(Filter::All, 8, None).expect("sub");
        let mut one = bus
            .subscribe(Filter::devices(["100"]), 8, None)
            .expect("sub");
        bus.publish([dnd("100"), dnd("200"), link(0)]);
        let seqs: Vec<u64> = (0..3)
            .map(|_| all.try_recv().expect("e").expect("ok").seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        assert_eq!(one.recv().await.expect("e").seq, 1);
        assert_eq!(one.recv().await.expect("e").seq, 3);
        assert!(one.try_recv().is_none());
    }

    #[tokio::test]
    async fn slow_subscriber_is_cut_off_others_are_not() {
        let bus = EventBus::new(0);
        let mut slow = bus.subscribe(Filter::All, 2, None).expect("sub");
        let mut fast = bus.subscribe(Filter::All, 100, None).expect("sub");
        bus.publish((0..5).map(link));
        assert_eq!(bus.subscriber_count(), 1);
        assert_eq!(slow.recv().await.expect("e").seq, 1);
        assert_eq!(slow.recv().await.expect("e").seq, 2);
        assert_eq!(
            slow.recv().await,
            Err(CloseReason::Lagged {
                capacity: 2,
                last_delivered: 2
            })
        );
        for i in 1..=5 {
            assert_eq!(fast.recv().await.expect("e").seq, i);
        }
        assert_eq!(bus.lagged_count(), 1);
    }

    #[tokio::test]
    async fn resume_after_lag() {
        let bus = EventBus::new(10);
        bus.publish((0..4).map(link));
        let mut again = bus.subscribe(Filter::All, 10, Some(2)).expect("sub");
        assert_eq!(again.recv().await.expect("e").seq, 3);
        assert_eq!(again.recv().await.expect("e").seq, 4);
        bus.publish((0..20).map(link));
        assert!(matches!(
            bus.subscribe(Filter::All, 10, Some(3)),
            Err(SubscribeError::HistoryGap { .. })
        ));
        assert!(matches!(
            bus.subscribe(Filter::All, 10, Some(99)),
            Err(SubscribeError::FromTheFuture { .. })
        ));
        drop(again);
        assert_eq!(bus.subscriber_count(), 0);
        bus.close();
        assert!(bus.subscribe(Filter::All, 1, None).is_err());
    }
}
