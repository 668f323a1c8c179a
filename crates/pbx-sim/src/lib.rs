//! # twp-pbx-sim — a CSTA PBX simulator
//!
//! The server side of the CSTA protocol TWP speaks, over the same codec
//! (`twp-csta`), with a PBX model good enough to demo and test everything
//! TWP does: `twp pbx-sim`, `twp demo` and the integration tests run it.
//!
//! ## Design
//! - [`pbx`]: the PBX model, pure and synchronous. Devices are
//!   extensions (with a site.cluster and a pickup group), numbers behind
//!   the trunk (created when dialled), hunt groups with N CCOs and a queue,
//!   and a voicemail server. Calls are lists of parties with an ECMA-269
//!   local connection state (alerting, connected, hold, queued, fail).
//!   Every operation returns what must be seen outside as `Effects`:
//!   notifications (an ECMA-269 event for the monitors of a list of
//!   devices) and timers (no answer, outside party answering).
//! - `core`: one mutex around the model, the links and the monitors.
//!   Dispatch fills in each receiving device's own connection state and
//!   queues encoded frames per link without waiting; a link whose queue is
//!   full is dropped as too slow, never waited for.
//! - `server`: per link, a reader task (frames → requests → answers from
//!   the model, response queued before the events it caused) and a writer
//!   task that batches frames. A malformed frame or body closes that link
//!   only and is written to the link log.
//! - [`Simulator`]: the scenario API for the HTTP/CLI front-ends: the
//!   outside world dials, phones answer and hang up, features are set,
//!   links are dropped or refused on demand, state is inspected.
//! - [`load`]: N calls per second (outside → extension, alerting,
//!   answer, clear).
//!
//! Routing rules: immediate forwarding first; then, when the device is
//! busy (any call) or in do-not-disturb, busy/DND forwarding, else
//! voicemail if the device has it, else Failed (an outside caller hangs up
//! at once). A ringing device with no-answer forwarding or voicemail is
//! diverted after `no_answer_timeout`. Each rule has internal/external
//! variants chosen by the caller's side. Voicemail lights the message
//! waiting lamp of the device whose call it took.
//!
//! Device list: `GetSwitchingFunctionDevices` is answered with every
//! internal device (extensions as `station`, hunt groups as `group`, the
//! voicemail server as `voiceUnit`) in `SwitchingFunctionDevices`
//! segments of `devices_per_segment`; `device_list: false` refuses it, as
//! a switch without the service does. Devices can be added and removed
//! while running ([`Simulator::add_device`], [`Simulator::remove_device`]).
//!
//! Limits: monitors per link (`monitors_per_link`, refused with
//! `systemResourceAvailability/objectMonitorLimitExceeded`); only internal
//! devices can be monitored.

pub mod config;
mod core;
mod listing;
pub mod load;
pub mod pbx;
mod server;
mod simulator;

pub use config::{DeviceConfig, DeviceRole, SimConfig};
pub use load::{LoadConfig, LoadReport};
pub use simulator::{CallStatus, DeviceStatus, LinkStatus, Running, SimError, Simulator, run};
