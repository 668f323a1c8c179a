//! Async sources behind the engine's synchronous [`RecordStream`]: the
//! producer (LDAP search, SQL query) runs on its own thread in a
//! current-thread tokio runtime and hands records over in batches through a
//! bounded channel. So at most `CHANNEL_DEPTH + 1` batches are in memory
//! (the source's socket applies back-pressure beyond that), and reading
//! the source overlaps with the engine mapping records on the caller's
//! thread.

use std::future::Future;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use twp_directory::{ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord};

/// Batches waiting in the channel.
const CHANNEL_DEPTH: usize = 2;

/// One record as read by a producer: values aligned with the asked fields.
pub(crate) enum Item {
    /// A readable record.
    Record {
        location: Location,
        values: Vec<Option<String>>,
    },
    /// An unreadable record.
    Skipped { location: Location, reason: String },
}

/// What goes through the channel. The end is explicit: a producer that
/// dies (panics) without saying `End` must not pass for a complete source,
/// or a sync would delete the contacts it did not read.
enum Message {
    Batch(Vec<Item>),
    End,
    Failed(ConnectorError),
}

/// The producer's end.
pub(crate) struct Sink {
    tx: SyncSender<Message>,
    batch: Vec<Item>,
    capacity: usize,
}

impl Sink {
    /// Queues an item; false when the consumer is gone (stop producing).
    pub(crate) fn push(&mut self, item: Item) -> bool {
        self.batch.push(item);
        if self.batch.len() >= self.capacity {
            return self.flush();
        }
        true
    }

    /// Sends the queued items; false when the consumer is gone.
    pub(crate) fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.capacity));
        self.tx.send(Message::Batch(batch)).is_ok()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Runs `produce` on a new thread; its records come out of the returned
/// stream. An error returned by `produce` ends the stream with that error
/// after the records already sent.
pub(crate) fn spawn<F, Fut>(
    name: &str,
    batch: usize,
    produce: F,
) -> Result<PumpStream, ConnectorError>
where
    F: FnOnce(Sink) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), ConnectorError>>,
{
    let capacity = batch.clamp(1, 10_000);
    let (tx, rx) = sync_channel(CHANNEL_DEPTH);
    let error_tx = tx.clone();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = error_tx.send(Message::Failed(ConnectorError::Connection(format!(
                        "cannot start the connector's runtime: {e}"
                    ))));
                    return;
                }
            };
            let sink = Sink {
                tx,
                batch: Vec::with_capacity(capacity),
                capacity,
            };
            let result = runtime.block_on(produce(sink));
            // The sink flushed its last batch when the future was dropped;
            // an error goes after the records already sent.
            let _ = error_tx.send(match result {
                Ok(()) => Message::End,
                Err(e) => Message::Failed(e),
            });
        })
        .map_err(|e| ConnectorError::Connection(format!("cannot start a reader thread: {e}")))?;
    Ok(PumpStream {
        rx,
        current: Vec::new().into_iter(),
        done: false,
        read: 0,
    })
}

/// The consumer's end: a [`RecordStream`].
pub(crate) struct PumpStream {
    rx: Receiver<Message>,
    current: std::vec::IntoIter<Item>,
    done: bool,
    read: u64,
}

impl RecordStream for PumpStream {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        loop {
            if let Some(item) = self.current.next() {
                self.read += 1;
                return Ok(match item {
                    Item::Record { location, values } => {
                        out.reset(location);
                        for (i, v) in values.iter().enumerate() {
                            if let Some(v) = v {
                                out.set(i, v);
                            }
                        }
                        ReadOutcome::Record
                    }
                    Item::Skipped { location, reason } => ReadOutcome::Skipped { location, reason },
                });
            }
            if self.done {
                return Ok(ReadOutcome::End);
            }
            match self.rx.recv() {
                Ok(Message::Batch(batch)) => self.current = batch.into_iter(),
                Ok(Message::End) => self.done = true,
                Ok(Message::Failed(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(ConnectorError::Connection(format!(
                        "the reader thread stopped unexpectedly after {} records",
                        self.read
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn counting(total: usize, made: Arc<AtomicUsize>) -> PumpStream {
        spawn("test-pump", 100, move |mut sink| async move {
            for i in 0..total {
                made.fetch_add(1, Ordering::SeqCst);
                let item = Item::Record {
                    location: Location::Row(i as u64 + 1),
                    values: vec![Some(i.to_string())],
                };
                if !sink.push(item) {
                    return Ok(());
                }
            }
            Err(ConnectorError::Format("source broke at the end".into()))
        })
        .unwrap()
    }

    #[test]
    fn bounded_and_stops_when_the_reader_goes() {
        let made = Arc::new(AtomicUsize::new(0));
        let mut stream = counting(1_000_000, Arc::clone(&made));
        let mut record = SourceRecord::new(1);
        for i in 0..10 {
            assert_eq!(
                stream.next_record(&mut record).unwrap(),
                ReadOutcome::Record
            );
            assert_eq!(record.get(0), Some(i.to_string().as_str()));
        }
        std::thread::sleep(Duration::from_millis(100));
        // At most the batch being read, the channel's and the one being filled.
        let ahead = made.load(Ordering::SeqCst);
        assert!(ahead <= 100 * (CHANNEL_DEPTH + 2) + 1, "{ahead}");
        drop(stream);
        std::thread::sleep(Duration::from_millis(100));
        assert!(made.load(Ordering::SeqCst) <= ahead + 1);
    }

    #[test]
    fn a_dead_producer_is_an_error_not_an_end() {
        let mut stream = spawn("test-pump", 10, |mut sink| async move {
            sink.push(Item::Record {
                location: Location::Row(1),
                values: vec![None],
            });
            sink.flush();
            panic!("producer bug");
        })
        .unwrap();
        let mut record = SourceRecord::new(1);
        assert_eq!(
            stream.next_record(&mut record).unwrap(),
            ReadOutcome::Record
        );
        let e = stream.next_record(&mut record).unwrap_err().to_string();
        assert!(e.contains("stopped unexpectedly after 1 records"), "{e}");
    }

    #[test]
    fn records_then_the_error() {
        let mut stream = counting(250, Arc::new(AtomicUsize::new(0)));
        let mut record = SourceRecord::new(1);
        for _ in 0..250 {
            assert_eq!(
                stream.next_record(&mut record).unwrap(),
                ReadOutcome::Record
            );
        }
        assert_eq!(record.location(), Some(&Location::Row(250)));
        let e = stream.next_record(&mut record).unwrap_err();
        assert_eq!(e.to_string(), "source broke at the end");
        assert_eq!(stream.next_record(&mut record).unwrap(), ReadOutcome::End);
    }
}
