//! # twp-telephony — the telephony engine of TWP (issue 3, without HTTP)
//!
//! It links the PBX, supervises the devices of a domain, keeps their device
//! and call state, fans typed events out to subscribers and offers call
//! control. The API crate exposes it over HTTP/WebSocket; nothing here knows
//! HTTP, JSON or XML (the wire is `twp-csta`'s).
//!
//! ```text
//! config ─► allocation (pure: devices → links, guide 4.1–4.2)
//!             │
//!             ▼
//! provider × N (one task per supervision link: connect, session, monitor,
//!             │  resync, follow events, reconnect with backoff)
//!             ▼
//! monitor (one per device) ─► state (device + calls) ─► events (bus) ─► subscribers
//!             ▲
//! control (call control through the device's link)
//! ```
//!
//! Modules, one job each:
//! - [`allocation`]: supervision allocation (explicit sites on the
//!   least-loaded listing link, overflow, implicit sites).
//! - [`config`]: links (host, port, capacity, Site.Cluster list, protocol,
//!   session mode), devices, tuning; validation.
//! - [`provider`]: one supervised CSTA link; its [`ProviderState`] for the
//!   maintenance API (guide 10.4).
//! - `monitor`: one monitor per device, shared by every subscriber.
//! - [`state`]: device state and call state per device, from events and
//!   snapshots.
//! - [`events`]: the fan-out bus with sequence numbers, bounded per
//!   subscriber queues, `Lagged` disconnection and resumption.
//! - [`control`]: call control and features, callback (double call).
//! - `listing`: the PBX's device list (ECMA-269 Get Switching Function
//!   Devices) through a running link, for the users import's "A5000 INT".
//! - [`backoff`]: reconnection delays.
//! - [`trace`]: PDU traces (guide 10.6) of one device or `*`: the links'
//!   tap filters and queues records (bounded, drops counted), a writer
//!   thread writes rotating files that `twp csta decode` reads.
//! - [`Telephony`]: the service handle (`start`, state, events, control,
//!   traces, `shutdown`).
//!
//! ## Use
//!
//! ```no_run
//! use twp_telephony::*;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = TelephonyConfig::new("example.com");
//! config.links.push(
//!     LinkSettings::csta("192.0.2.10", 3211, 500).with_sites(&["1.*".parse()?]),
//! );
//! config.devices.push(DeviceSettings::new("1000", "1.1".parse()?));
//! let tel = Telephony::start(config)?;
//! let mut events = tel.subscribe(Filter::devices(["1000"]), 1024, None)?;
//! tel.make_call("1000", "0612345678").await?;
//! while let Ok(envelope) = events.recv().await {
//!     println!("{} {:?}", envelope.seq, envelope.event);
//! #   break;
//! }
//! println!("{:?}", tel.providers());
//! // Guide 10.6: the PDUs of 1000 to rotating files, for ten minutes.
//! let spec = TraceSpec {
//!     duration: Some(std::time::Duration::from_secs(600)),
//!     ..TraceSpec::new("1000".parse()?, "/var/log/twp/traces")
//! };
//! tel.start_trace(spec).await?;
//! println!("{:?}", tel.trace_status());
//! tel.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Design notes
//! - **Supervision is permanent**: every configured device is monitored on
//!   the link the allocation gave it, once, whatever the number of
//!   subscribers (one monitor per device). Subscribers filter the bus.
//! - **Opening a link**: TCP, then the session the switch wants
//!   ([`SessionMode`]): ECMA-354 `StartApplicationSession` (its timer reset
//!   with `ResetApplicationSessionTimer` at half the requested duration;
//!   a failed reset reopens the link), `SystemRegister`, or nothing.
//!   `SystemStatus` requests from the switch are answered by the link;
//!   other switch requests are refused.
//! - **Link loss**: the `twp_csta::Link` closes itself on EOF, I/O error,
//!   malformed frame or body, or lost heartbeat (half-open TCP) and says
//!   why; the provider publishes `LinkStateChanged { connected: false,
//!   reason }`, marks its devices unsupervised, retries after an
//!   exponential, bounded, jittered delay, then re-monitors and
//!   re-snapshots every device. Each link is independent. Requests for a
//!   device whose link is down fail at once with
//!   [`ControlError::LinkDown`].
//! - **Resync**: after `MonitorStart`, `SnapshotDevice` gives the calls
//!   with the device's own connection state; `GetDoNotDisturb` and
//!   `GetForwarding` give the features ([`config::Resync`] can turn these
//!   off). A snapshot overtaken by events for its device (a per-device
//!   generation counter) is read again, up to 3 times.
//! - **Events**: each carries a bus-wide sequence number; a subscriber's
//!   queue is bounded; a full queue disconnects that subscriber with
//!   [`CloseReason::Lagged`] (naming the last sequence number it got) and
//!   nobody waits. The bus keeps a bounded history for resumption.
//! - **Early events**: an event can overtake the processing of its
//!   monitor's `MonitorStart` answer; while a link is resyncing such
//!   events are kept (up to 4,096 per link) and applied, in order, when
//!   the monitor is registered. Afterwards, events for unknown monitors
//!   are skipped.
//! - **Ordering**: events of one device (one monitor, one link) reach the
//!   bus in the order the PBX sent them, and the state a subscriber reads
//!   is never older than the events it got (events are published under the
//!   device's lock). Events of devices on *different* links are not ordered
//!   with each other: a client waits on its own device's events.
//! - **Lifecycle**: [`Telephony::start`] spawns one task per link;
//!   [`Telephony::shutdown`] stops them, closes the links and ends every
//!   subscription with [`CloseReason::Shutdown`]. Dropping the last handle
//!   also stops the tasks.
//! - **PDU traces** ([`Telephony::start_trace`], `stop_trace`,
//!   `trace_status`): every link of the engine shares one
//!   [`twp_csta::Tap`]; with no trace a link pays one atomic load per PDU,
//!   with one it filters, copies and `try_send`s, never waits. A device
//!   trace keeps the device's requests and their answers (matched by
//!   invoke id), events on its monitor or naming it, and undecodable
//!   frames; session-level PDUs (sessions, system status, heartbeats) only
//!   go to `*` traces. A new trace replaces the running one. A write
//!   error stops the trace (error in the status), never a link. Traces
//!   survive link loss: the tap outlives each link.
//! - **State is the device's view**: a snapshot only knows the device's
//!   own connection, so parties learnt from earlier events are kept and
//!   new ones have an unknown (`None`) state until an event tells it.
//!
//! ## Not done here
//! - VTI-XML: selecting it is refused ([`ConfigError::ProtocolNotAvailable`]).
//! - The guide's single "CSTA link" per domain for forwarding is not
//!   separated from the supervision links: every request for a device goes
//!   over the link supervising it.
//! - Adding or removing devices while running (the allocation is computed at
//!   start; restart to change it, as the guide says for its services).
//! - The voicemail number and CCO count of 10.5 are what the configuration
//!   says ([`DeviceSettings::with_voicemail`], [`DeviceSettings::with_ccos`]):
//!   CSTA offers no query for either, so they are not read from the PBX.
//! - Guide 10.6's Syslog forwarding; traces of the VTI-XML protocol (not
//!   built). A trace is not persisted: a restart ends it. Only the files
//!   of the running trace are rotated away; older traces' files stay
//!   until an administrator removes them. The HTTP endpoints are the API
//!   crate's.
//! - Monitors are not stopped one by one at shutdown: the links close.
//! - Message waiting is not read back after a reconnect (the codec has no
//!   query for it); it is known from `MessageWaiting` events only.
//! - Callback needs a supervised `callback_device` that places the two
//!   calls (MakeCall to the user, ConsultationCall to the customer,
//!   TransferCall); PBX-specific "double call" services and MakeCall with
//!   `prompt` are not used.
//! - Authorisation (who may see or control which device) is the API's:
//!   the bus only filters by device.

pub mod allocation;
pub mod backoff;
pub mod config;
pub mod control;
pub mod error;
pub mod events;
mod listing;
mod monitor;
pub mod provider;
mod service;
pub mod state;
pub mod trace;

pub use allocation::{Placement, SiteCluster, SitePattern};
pub use config::{DeviceSettings, LinkSettings, Protocol, Resync, SessionMode, TelephonyConfig};
pub use error::{ConfigError, ControlError, ListError};
pub use events::{
    CloseReason, Envelope, EventBus, Filter, SubscribeError, Subscription, TelephonyEvent,
};
pub use listing::MAX_LISTED_DEVICES;
pub use provider::ProviderState;
pub use service::{DevicePlacement, Telephony};
pub use state::{Activity, CallView, DeviceState, Forward, Party};
pub use trace::{TraceError, TraceSpec, TraceStatus, TraceTarget};
pub use twp_csta::{DeviceCategory, ForwardingType, ListedDevice, LocalConnectionState};
