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

/// Records packed in one text buffer: a producer that decodes into it
/// allocates nothing per record, and the consumer copies each value into
/// its reused [`SourceRecord`] (no string freed per value on the other
/// thread, which glibc's allocator makes costly).
pub(crate) struct Page {
    width: usize,
    text: String,
    rows: Vec<Row>,
    /// `width` per record row: the value's range in `text`, if any.
    spans: Vec<Option<(usize, usize)>>,
}

enum Row {
    /// A record: its DN's range in `text`; values at `spans[n * width..]`
    /// for the record's rank `n` among the record rows.
    Record {
        dn: (usize, usize),
    },
    Skipped {
        location: Location,
        reason: String,
    },
}

impl Page {
    pub(crate) fn new(width: usize, rows: usize) -> Self {
        Self {
            width,
            text: String::with_capacity(rows * 256),
            rows: Vec::with_capacity(rows),
            spans: Vec::with_capacity(rows * width),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Starts a record located by a DN; its values are then set with
    /// [`Self::value`], and it is kept by [`Self::commit`] or dropped by
    /// [`Self::rollback`].
    pub(crate) fn begin(&mut self, dn: &str) -> Mark {
        let mark = Mark {
            text: self.text.len(),
            spans: self.spans.len(),
        };
        self.text.push_str(dn);
        self.spans.resize(mark.spans + self.width, None);
        mark
    }

    /// The text buffer, to append a value to (then [`Self::value`]).
    pub(crate) fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// Field `i` of the current record is the text appended since `start`.
    pub(crate) fn value(&mut self, mark: &Mark, i: usize, start: usize) {
        if let Some(slot) = self.spans.get_mut(mark.spans + i) {
            *slot = Some((start, self.text.len()));
        }
    }

    pub(crate) fn commit(&mut self, mark: Mark, dn_len: usize) {
        self.rows.push(Row::Record {
            dn: (mark.text, mark.text + dn_len),
        });
    }

    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.text.truncate(mark.text);
        self.spans.truncate(mark.spans);
    }

    pub(crate) fn skip(&mut self, location: Location, reason: String) {
        self.rows.push(Row::Skipped { location, reason });
    }
}

/// Where a record begins in a [`Page`].
pub(crate) struct Mark {
    text: usize,
    spans: usize,
}

impl Mark {
    /// Where the record's DN starts in the page's text.
    pub(crate) fn start(&self) -> usize {
        self.text
    }
}

/// What goes through the channel. The end is explicit: a producer that
/// dies (panics) without saying `End` must not pass for a complete source,
/// or a sync would delete the contacts it did not read.
enum Message {
    Batch(Vec<Item>),
    Page(Page),
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

    /// Sends a page (after the queued items); false when the consumer is gone.
    pub(crate) fn send_page(&mut self, page: Page) -> bool {
        if !self.flush() {
            return false;
        }
        page.rows.is_empty() || self.tx.send(Message::Page(page)).is_ok()
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
        page: None,
        done: false,
        read: 0,
    })
}

/// The consumer's end: a [`RecordStream`].
pub(crate) struct PumpStream {
    rx: Receiver<Message>,
    current: std::vec::IntoIter<Item>,
    /// The page being read: its rows and the rank of the next record row.
    page: Option<(std::vec::IntoIter<Row>, Page, usize)>,
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
            if let Some((rows, page, rank)) = &mut self.page {
                if let Some(row) = rows.next() {
                    self.read += 1;
                    return Ok(match row {
                        Row::Record { dn } => {
                            let text = page.text.as_str();
                            out.reset(Location::Dn(text.get(dn.0..dn.1).unwrap_or("").to_owned()));
                            let at = *rank * page.width;
                            *rank += 1;
                            let spans = page.spans.get(at..at + page.width).unwrap_or(&[]);
                            for (i, span) in spans.iter().enumerate() {
                                if let Some(v) = span.and_then(|(start, end)| text.get(start..end))
                                {
                                    out.set(i, v);
                                }
                            }
                            ReadOutcome::Record
                        }
                        Row::Skipped { location, reason } => {
                            ReadOutcome::Skipped { location, reason }
                        }
                    });
                }
                self.page = None;
            }
            if self.done {
                return Ok(ReadOutcome::End);
            }
            match self.rx.recv() {
                Ok(Message::Batch(batch)) => self.current = batch.into_iter(),
                Ok(Message::Page(mut page)) => {
                    let rows = std::mem::take(&mut page.rows).into_iter();
                    self.page = Some((rows, page, 0));
                }
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
