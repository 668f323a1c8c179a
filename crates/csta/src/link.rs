//! An async client link to a CSTA switch.
//!
//! A [`Link`] owns one byte stream (a `TcpStream` in production, anything
//! `AsyncRead + AsyncWrite` in tests) and three tasks:
//! - the reader decodes frames, completes pending requests by invoke id,
//!   answers the switch's SystemStatus heartbeats itself and forwards
//!   events (and other switch requests) on the [`LinkEvent`] channel;
//! - the writer encodes and writes outgoing frames;
//! - the optional heartbeat sends `SystemStatus` and closes the link when
//!   the switch stops answering (half-open TCP).
//!
//! The switch's device list (ECMA-269 Get Switching Function Devices,
//! [`Link::switching_function_devices`]) arrives after the response, in
//! `SwitchingFunctionDevices` messages the reader routes by service cross
//! reference to the waiting caller, never to the event channel.
//!
//! Any malformed frame or body, I/O error or heartbeat loss closes the link:
//! pending requests fail with the cause, and a final [`LinkEvent::Closed`]
//! carries it. The caller reopens a new link; nothing here panics or retries.
//!
//! With a [`Tap`] in its config, the link hands every PDU to the tap: sent
//! ones (requests, answers to the switch, heartbeat replies) when queued
//! for writing, received ones as read, including bodies that fail to
//! decode and frames that cannot be cut. With no sink attached this costs
//! one atomic load per PDU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, warn};

use crate::codec::{Edition, decode, encode_with};
use crate::device::DeviceId;
use crate::frame::{Frame, FrameDecoder, FrameError, Framing, InvokeId, MAX_WIRE_LEN};
use crate::model::{
    CstaError, DeviceCategory, Event, ListedDevice, Message, MonitorType, Request, Response,
    SystemStatusValue,
};
use crate::trace::{Direction, Pdu, Tap};
use crate::xml::error::XmlError;

/// Settings of one link.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub framing: Framing,
    /// Largest accepted frame, header included.
    pub max_frame_len: usize,
    /// How long a request waits for its response.
    pub request_timeout: Duration,
    /// Interval of outgoing `SystemStatus` heartbeats; `None` disables them.
    pub heartbeat_interval: Option<Duration>,
    /// Capacity of the event channel (backpressure on the reader when full).
    pub event_capacity: usize,
    /// Namespace written on outgoing messages.
    pub edition: Edition,
    /// Where PDUs are traced (guide 10.6); `None`: never.
    pub tap: Option<Tap>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            framing: Framing::LengthPrefixed,
            max_frame_len: MAX_WIRE_LEN,
            request_timeout: Duration::from_secs(5),
            heartbeat_interval: Some(Duration::from_secs(30)),
            event_capacity: 1024,
            edition: Edition::default(),
            tap: None,
        }
    }
}

/// Why a request or the link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("connection to {addr} failed: {message}")]
    Connect { addr: String, message: String },
    #[error("I/O error on the link: {0}")]
    Io(String),
    #[error("malformed frame: {0}")]
    Frame(#[from] FrameError),
    #[error("malformed body in frame {invoke_id}: {error}")]
    Body {
        invoke_id: InvokeId,
        error: XmlError,
    },
    #[error("switch refused {request}: {error}")]
    Refused {
        request: &'static str,
        error: CstaError,
    },
    #[error("no response to {request} within {after:?}")]
    Timeout {
        request: &'static str,
        after: Duration,
    },
    #[error("switch answered {request} with {got}")]
    UnexpectedResponse { request: &'static str, got: String },
    #[error("no answer to the heartbeat: link presumed dead")]
    HeartbeatLost,
    #[error("switch closed the connection")]
    PeerClosed,
    #[error("link closed")]
    Closed,
    #[error("all 9998 invoke ids are in use")]
    NoInvokeId,
    #[error("the switch's device list exceeds {limit} devices")]
    TooManyDevices { limit: usize },
}

/// What the link delivers to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    Event(Event),
    /// A request from the switch that the link does not answer itself;
    /// reply with [`Link::respond`].
    Request {
        invoke_id: InvokeId,
        request: Request,
    },
    /// The link is down; nothing follows.
    Closed(LinkError),
}

type Reply = oneshot::Sender<Result<Message, LinkError>>;

/// Where the segments of one device list go.
type Segments = mpsc::UnboundedSender<Segment>;

/// One `SwitchingFunctionDevices` message, as the listing waits for it.
#[derive(Debug)]
struct Segment {
    last: bool,
    devices: Vec<ListedDevice>,
}

#[derive(Default)]
struct Pending {
    next: Option<InvokeId>,
    waiting: HashMap<InvokeId, Reply>,
    /// `GetSwitchingFunctionDevices` requests not answered yet, by invoke
    /// id: the reader moves the sink to `listings` when the answer comes,
    /// before reading the next frame, so no segment can overtake it.
    listing_requests: HashMap<InvokeId, Segments>,
    /// Device lists being received, by service cross reference id.
    listings: HashMap<String, Segments>,
    failed: Option<LinkError>,
}

struct Shared {
    pending: Mutex<Pending>,
    outgoing: mpsc::Sender<Frame>,
    config: LinkConfig,
    /// Set once the link must stop; every task watches it.
    stop: watch::Sender<bool>,
    /// The switch's address, for traces.
    peer: String,
}

impl Shared {
    /// Traces a PDU if a sink is attached to the config's tap.
    #[inline]
    fn trace(
        &self,
        direction: Direction,
        invoke_id: Option<InvokeId>,
        body: &[u8],
        message: Option<&Message>,
        error: Option<&str>,
    ) {
        if let Some(tap) = &self.config.tap {
            tap.emit(|link| Pdu {
                time: std::time::SystemTime::now(),
                link,
                peer: &self.peer,
                direction,
                invoke_id,
                body,
                message,
                error,
            });
        }
    }

    /// Encodes, traces and queues an outgoing message.
    async fn send(&self, invoke_id: InvokeId, msg: &Message) -> Result<(), LinkError> {
        let body = encode_with(msg, self.config.edition).into_bytes();
        self.trace(Direction::Sent, Some(invoke_id), &body, Some(msg), None);
        self.outgoing
            .send(Frame::new(invoke_id, body))
            .await
            .map_err(|_| self.failure())
    }

    fn failure(&self) -> LinkError {
        self.lock().failed.clone().unwrap_or(LinkError::Closed)
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A poisoned lock only means another task panicked mid-update; the
        // map is still usable.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails every pending request and records the cause. Returns false if
    /// the link had already failed.
    fn fail(&self, error: &LinkError) -> bool {
        let mut p = self.lock();
        if p.failed.is_some() {
            return false;
        }
        p.failed = Some(error.clone());
        for (_, tx) in p.waiting.drain() {
            let _ = tx.send(Err(error.clone()));
        }
        // dropping the sinks ends the listings; they read `failed`
        p.listing_requests.clear();
        p.listings.clear();
        drop(p);
        self.stop.send_replace(true);
        true
    }
}

/// Stops the link when the last [`Link`] clone is dropped.
struct Guard(Arc<Shared>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fail(&LinkError::Closed);
    }
}

/// A client link. Cheap to clone; the link closes when the last clone is
/// dropped or [`Link::close`] is called.
#[derive(Clone)]
pub struct Link {
    shared: Arc<Shared>,
    _guard: Arc<Guard>,
}

impl Link {
    /// Connects over TCP.
    pub async fn connect(
        addr: impl ToSocketAddrs + std::fmt::Debug,
        config: LinkConfig,
    ) -> Result<(Link, mpsc::Receiver<LinkEvent>), LinkError> {
        let name = format!("{addr:?}");
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| LinkError::Connect {
                addr: name.clone(),
                message: e.to_string(),
            })?;
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or(name);
        Ok(Link::from_named_stream(stream, config, peer))
    }

    /// Runs a link over an established stream.
    pub fn from_stream<S>(stream: S, config: LinkConfig) -> (Link, mpsc::Receiver<LinkEvent>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        Link::from_named_stream(stream, config, "stream".to_owned())
    }

    /// Runs a link over an established stream to `peer` (named in traces).
    pub fn from_named_stream<S>(
        stream: S,
        config: LinkConfig,
        peer: String,
    ) -> (Link, mpsc::Receiver<LinkEvent>)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(stream);
        let (out_tx, out_rx) = mpsc::channel(256);
        let (event_tx, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let (stop, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            outgoing: out_tx,
            config,
            stop,
            peer,
        });
        tokio::spawn(write_loop(
            write_half,
            out_rx,
            shared.clone(),
            event_tx.clone(),
            shutdown_rx.clone(),
        ));
        tokio::spawn(read_loop(
            read_half,
            shared.clone(),
            event_tx.clone(),
            shutdown_rx.clone(),
        ));
        let link = Link {
            _guard: Arc::new(Guard(shared.clone())),
            shared,
        };
        if let Some(every) = link.shared.config.heartbeat_interval {
            tokio::spawn(heartbeat_loop(
                Arc::downgrade(&link.shared),
                event_tx,
                every,
                shutdown_rx,
            ));
        }
        (link, event_rx)
    }

    /// Sends a request and waits for its response. A `CSTAErrorCode`
    /// answer is [`LinkError::Refused`].
    pub async fn request(&self, request: Request) -> Result<Response, LinkError> {
        request_on(&self.shared, request).await
    }

    /// Answers a request received as [`LinkEvent::Request`].
    pub async fn respond(&self, invoke_id: InvokeId, msg: &Message) -> Result<(), LinkError> {
        self.shared.send(invoke_id, msg).await
    }

    /// Closes the link: tasks stop, pending requests fail with `Closed`.
    pub fn close(&self) {
        self.shared.fail(&LinkError::Closed);
    }

    /// Why the link is down, if it is.
    pub fn failed(&self) -> Option<LinkError> {
        self.shared.lock().failed.clone()
    }

    pub fn is_open(&self) -> bool {
        self.failed().is_none()
    }

    // Convenience wrappers for the services used most.

    /// ECMA-354 session opening; returns the session id.
    pub async fn start_application_session(
        &self,
        application_id: &str,
        duration_secs: Option<u32>,
    ) -> Result<String, LinkError> {
        let request = Request::StartApplicationSession {
            application_id: application_id.to_owned(),
            requested_protocol_versions: vec![self.shared.config.edition.namespace().to_owned()],
            requested_session_duration: duration_secs,
        };
        match self.request(request).await? {
            Response::StartApplicationSessionPos { session_id, .. } => Ok(session_id),
            other => Err(LinkError::UnexpectedResponse {
                request: "StartApplicationSession",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Starts a device monitor; returns its cross reference id.
    pub async fn monitor_start(&self, device: &DeviceId) -> Result<String, LinkError> {
        let request = Request::MonitorStart {
            monitor_object: device.clone(),
            monitor_type: Some(MonitorType::Device),
        };
        match self.request(request).await? {
            Response::MonitorStart { cross_ref_id } => Ok(cross_ref_id),
            other => Err(LinkError::UnexpectedResponse {
                request: "MonitorStart",
                got: other.name().to_owned(),
            }),
        }
    }

    pub async fn monitor_stop(&self, cross_ref_id: &str) -> Result<(), LinkError> {
        self.request(Request::MonitorStop {
            cross_ref_id: cross_ref_id.to_owned(),
        })
        .await
        .map(drop)
    }

    /// ECMA-269 Get Switching Function Devices: the devices the switch
    /// lists (of `category` only, if given), collected from its
    /// `SwitchingFunctionDevices` segments until `lastSegment`. Each
    /// segment must come within the request timeout; at most `limit`
    /// devices are accepted.
    pub async fn switching_function_devices(
        &self,
        category: Option<DeviceCategory>,
        limit: usize,
    ) -> Result<Vec<ListedDevice>, LinkError> {
        const REQUEST: &str = "GetSwitchingFunctionDevices";
        let (tx, mut rx) = mpsc::unbounded_channel();
        let request = Request::GetSwitchingFunctionDevices {
            requested_device_id: None,
            requested_device_category: category,
        };
        let cross_ref = match request_with(&self.shared, request, Some(tx)).await? {
            Response::GetSwitchingFunctionDevices {
                service_cross_ref_id,
            } => service_cross_ref_id,
            other => {
                return Err(LinkError::UnexpectedResponse {
                    request: REQUEST,
                    got: other.name().to_owned(),
                });
            }
        };
        let after = self.shared.config.request_timeout;
        let mut devices = Vec::new();
        let outcome = loop {
            match tokio::time::timeout(after, rx.recv()).await {
                Err(_) => {
                    break Err(LinkError::Timeout {
                        request: "SwitchingFunctionDevices",
                        after,
                    });
                }
                Ok(None) => break Err(self.shared.failure()),
                Ok(Some(segment)) => {
                    devices.extend(segment.devices);
                    if devices.len() > limit {
                        break Err(LinkError::TooManyDevices { limit });
                    }
                    if segment.last {
                        break Ok(devices);
                    }
                }
            }
        };
        // the reader removes a finished listing itself; this covers the rest
        self.shared.lock().listings.remove(&cross_ref);
        outcome
    }

    /// One heartbeat round trip.
    pub async fn system_status(&self) -> Result<(), LinkError> {
        self.request(Request::SystemStatus {
            status: Some(SystemStatusValue::Normal),
        })
        .await
        .map(drop)
    }
}

async fn request_on(shared: &Shared, request: Request) -> Result<Response, LinkError> {
    request_with(shared, request, None).await
}

/// Sends a request and waits for its answer; `segments`, for a device
/// list request, receives the list's segments once the answer came.
async fn request_with(
    shared: &Shared,
    request: Request,
    segments: Option<Segments>,
) -> Result<Response, LinkError> {
    let name = request.name();
    let (tx, rx) = oneshot::channel();
    let invoke_id = {
        let mut p = shared.lock();
        if let Some(e) = &p.failed {
            return Err(e.clone());
        }
        let id = next_free_id(&mut p)?;
        p.waiting.insert(id, tx);
        if let Some(s) = segments {
            p.listing_requests.insert(id, s);
        }
        id
    };
    let forget = |shared: &Shared| {
        let mut p = shared.lock();
        p.waiting.remove(&invoke_id);
        p.listing_requests.remove(&invoke_id);
    };
    if let Err(e) = shared.send(invoke_id, &Message::Request(request)).await {
        forget(shared);
        return Err(e);
    }
    let after = shared.config.request_timeout;
    match tokio::time::timeout(after, rx).await {
        Err(_) => {
            forget(shared);
            Err(LinkError::Timeout {
                request: name,
                after,
            })
        }
        Ok(Err(_)) => Err(shared.failure()),
        Ok(Ok(Err(e))) => Err(e),
        Ok(Ok(Ok(Message::Response(r)))) => Ok(r),
        Ok(Ok(Ok(Message::Error(error)))) => Err(LinkError::Refused {
            request: name,
            error,
        }),
        Ok(Ok(Ok(other))) => Err(LinkError::UnexpectedResponse {
            request: name,
            got: other.name().to_owned(),
        }),
    }
}

fn next_free_id(p: &mut Pending) -> Result<InvokeId, LinkError> {
    let mut id = p.next.unwrap_or(InvokeId::FIRST);
    for _ in 0..InvokeId::LAST_REQUEST.get() {
        let candidate = id;
        id = id.next_request();
        if !p.waiting.contains_key(&candidate) {
            p.next = Some(id);
            return Ok(candidate);
        }
    }
    Err(LinkError::NoInvokeId)
}

async fn close_with(shared: &Shared, events: &mpsc::Sender<LinkEvent>, error: LinkError) {
    if shared.fail(&error) {
        warn!(%error, "CSTA link down");
        let _ = events.send(LinkEvent::Closed(error)).await;
    }
}

async fn read_loop<R: AsyncRead + Send>(
    reader: R,
    shared: Arc<Shared>,
    events: mpsc::Sender<LinkEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::pin!(reader);
    let mut decoder = FrameDecoder::new(shared.config.framing, shared.config.max_frame_len);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        // Drain every whole frame already buffered.
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    if let Err(error) = dispatch(&shared, &events, frame).await {
                        close_with(&shared, &events, error).await;
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let text = e.to_string();
                    shared.trace(Direction::Received, None, &[], None, Some(&text));
                    close_with(&shared, &events, LinkError::Frame(e)).await;
                    return;
                }
            }
        }
        tokio::select! {
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) => {
                    close_with(&shared, &events, LinkError::PeerClosed).await;
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    close_with(&shared, &events, LinkError::Io(e.to_string())).await;
                    return;
                }
            },
            _ = shutdown.changed() => {
                close_with(&shared, &events, LinkError::Closed).await;
                return;
            }
        }
    }
}

async fn dispatch(
    shared: &Shared,
    events: &mpsc::Sender<LinkEvent>,
    frame: Frame,
) -> Result<(), LinkError> {
    let invoke_id = frame.invoke_id;
    let msg = match decode(&frame.body) {
        Ok(msg) => msg,
        Err(error) => {
            let text = error.to_string();
            shared.trace(
                Direction::Received,
                Some(invoke_id),
                &frame.body,
                None,
                Some(&text),
            );
            return Err(LinkError::Body { invoke_id, error });
        }
    };
    shared.trace(
        Direction::Received,
        Some(invoke_id),
        &frame.body,
        Some(&msg),
        None,
    );
    match msg {
        Message::Event(event) => {
            if let crate::model::EventKind::Unknown { name } = &event.kind {
                debug!(%name, "skipping unmodelled CSTA event");
                return Ok(());
            }
            let _ = events.send(LinkEvent::Event(event)).await;
        }
        Message::Request(Request::SystemStatus { .. }) => {
            let _ = shared
                .send(invoke_id, &Message::Response(Response::SystemStatus))
                .await;
        }
        Message::Request(Request::SwitchingFunctionDevices {
            service_cross_ref_id,
            last_segment,
            device_list,
            ..
        }) => {
            let mut p = shared.lock();
            let sink = if last_segment {
                p.listings.remove(&service_cross_ref_id)
            } else {
                p.listings.get(&service_cross_ref_id).cloned()
            };
            drop(p);
            match sink {
                Some(sink) => {
                    let _ = sink.send(Segment {
                        last: last_segment,
                        devices: device_list,
                    });
                }
                None => debug!(%service_cross_ref_id, "device list segment for no listing"),
            }
        }
        Message::Request(request) => {
            let _ = events.send(LinkEvent::Request { invoke_id, request }).await;
        }
        Message::Unknown { name } => debug!(%name, %invoke_id, "skipping unknown CSTA message"),
        answer @ (Message::Response(_) | Message::Error(_)) => {
            let waiter = {
                let mut p = shared.lock();
                if let Some(sink) = p.listing_requests.remove(&invoke_id)
                    && let Message::Response(Response::GetSwitchingFunctionDevices {
                        service_cross_ref_id,
                    }) = &answer
                {
                    p.listings.insert(service_cross_ref_id.clone(), sink);
                }
                p.waiting.remove(&invoke_id)
            };
            match waiter {
                Some(tx) => {
                    let _ = tx.send(Ok(answer));
                }
                None => debug!(%invoke_id, name = answer.name(), "response to no pending request"),
            }
        }
    }
    Ok(())
}

async fn write_loop<W: AsyncWrite + Send>(
    writer: W,
    mut frames: mpsc::Receiver<Frame>,
    shared: Arc<Shared>,
    events: mpsc::Sender<LinkEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::pin!(writer);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        let frame = tokio::select! {
            f = frames.recv() => f,
            _ = shutdown.changed() => None,
        };
        let Some(frame) = frame else {
            let _ = writer.shutdown().await;
            return;
        };
        buf.clear();
        let mut next = Some(frame);
        // Batch what is already queued into one write.
        while let Some(f) = next {
            if let Err(e) = crate::frame::encode_frame(
                shared.config.framing,
                &f,
                shared.config.max_frame_len,
                &mut buf,
            ) {
                warn!(error = %e, "dropping oversized outgoing frame");
            }
            next = frames.try_recv().ok();
        }
        if let Err(e) = writer.write_all(&buf).await {
            close_with(&shared, &events, LinkError::Io(e.to_string())).await;
            return;
        }
    }
}

async fn heartbeat_loop(
    shared: std::sync::Weak<Shared>,
    events: mpsc::Sender<LinkEvent>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        // Hold no strong reference between beats, so dropping every Link
        // clone still shuts the link down.
        let Some(strong) = shared.upgrade() else {
            return;
        };
        let beat = Request::SystemStatus {
            status: Some(SystemStatusValue::Normal),
        };
        match request_on(&strong, beat).await {
            Ok(_) => {}
            Err(LinkError::Timeout { .. }) => {
                close_with(&strong, &events, LinkError::HeartbeatLost).await;
                return;
            }
            Err(LinkError::Refused { .. }) => {} // alive, merely picky
            Err(_) => return,
        }
    }
}
