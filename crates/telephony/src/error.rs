//! Typed errors. Each message says what went wrong and what to do.

use std::time::Duration;

use twp_csta::{CstaError, LinkError};

/// The PBX's device list (its subscribers) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("the telephony has no link {link}: use one of the domain's links")]
    UnknownLink { link: usize },
    #[error(
        "the link to the PBX ({host}:{port}) is down{}: check the PBX and the link, then retry once it is back",
        reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    LinkDown {
        link: usize,
        host: String,
        port: u16,
        reason: Option<String>,
    },
    #[error(
        "the PBX refused to list its devices ({error}): it does not offer GetSwitchingFunctionDevices on this link"
    )]
    NotOffered { error: CstaError },
    #[error("the PBX did not send its device list ({request}) within {after:?}: retry later")]
    Timeout {
        request: &'static str,
        after: Duration,
    },
    #[error("reading the PBX's device list failed: {0}")]
    Link(LinkError),
}

impl From<LinkError> for ListError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Refused { error, .. } => ListError::NotOffered { error },
            LinkError::Timeout { request, after } => ListError::Timeout { request, after },
            other => ListError::Link(other),
        }
    }
}

/// The configuration cannot be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no supervision link is configured: add at least one link (host, port, capacity)")]
    NoLinks,
    #[error(
        "link {link} selects VTI-XML, which is not available (no public specification): use the CSTA protocol"
    )]
    ProtocolNotAvailable { link: usize },
    #[error("link {link} has no usable address ({host:?}, port {port}): set a host and a port")]
    BadAddress {
        link: usize,
        host: String,
        port: u16,
    },
    #[error("a device has an empty number: remove it or give its number")]
    EmptyNumber,
    #[error("device {number} is listed twice: keep one entry")]
    DuplicateDevice { number: String },
    #[error("the callback device {number} is not among the supervised devices: add it")]
    CallbackDeviceNotSupervised { number: String },
    #[error("device {number} has an empty voicemail number: give the number or none")]
    EmptyVoicemail { number: String },
    #[error("the telephony engine must be started from within a Tokio runtime")]
    NoRuntime,
}

/// A call control or feature request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("device {device} is not configured for supervision: add it to the domain's devices")]
    UnknownDevice { device: String },
    #[error(
        "device {device} has no supervision link (every link is at capacity): raise a link's capacity or add a link"
    )]
    NotSupervised { device: String },
    #[error(
        "the link to the PBX ({host}:{port}) serving device {device} is down{}: retry once it is back (watch for LinkStateChanged)",
        reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    LinkDown {
        device: String,
        link: usize,
        host: String,
        port: u16,
        reason: Option<String>,
    },
    #[error(
        "device {device} has no {wanted} call: give the call id explicitly or check the device's calls"
    )]
    NoSuchCall {
        device: String,
        wanted: &'static str,
    },
    #[error("the PBX refused {request} ({error}): check the device and call states")]
    Refused {
        request: &'static str,
        error: CstaError,
    },
    #[error("the PBX did not answer {request} within {after:?}: the link may be overloaded; retry")]
    Timeout {
        request: &'static str,
        after: Duration,
    },
    #[error("the PBX answered {request} unexpectedly ({got})")]
    Unexpected { request: &'static str, got: String },
    #[error("link failure during {request}: {error}; retry once the link is back")]
    Link {
        request: &'static str,
        error: LinkError,
    },
    #[error("{number:?} is not a number that can be dialled")]
    InvalidNumber { number: String },
    #[error("callback is not configured: set a callback device among the supervised devices")]
    CallbackNotConfigured,
    #[error("callback: {party} did not answer within {after:?}; the call attempt was cleared")]
    CallbackNoAnswer { party: String, after: Duration },
    #[error("callback: the call to {party} ended before it could be joined")]
    CallbackDropped { party: String },
    #[error("the telephony service is shutting down")]
    ShuttingDown,
}

impl ControlError {
    pub(crate) fn from_link(request: &'static str, error: LinkError) -> ControlError {
        match error {
            LinkError::Refused { request, error } => ControlError::Refused { request, error },
            LinkError::Timeout { request, after } => ControlError::Timeout { request, after },
            LinkError::UnexpectedResponse { request, got } => {
                ControlError::Unexpected { request, got }
            }
            error => ControlError::Link { request, error },
        }
    }
}
