//! Configuration of the engine: the supervision links of a domain, the
//! devices to supervise, and the tuning of reconnection, resync and events.

use std::collections::HashSet;
use std::time::Duration;

use crate::allocation::{SiteCluster, SitePattern};
use crate::backoff::Backoff;
use crate::error::ConfigError;

/// The protocol a link speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// CSTA XML (ECMA-269/323), the only one implemented.
    #[default]
    Csta,
    /// AASTRA's proprietary VTI-XML: no public specification exists, so
    /// it is refused at start with [`ConfigError::ProtocolNotAvailable`].
    VtiXml,
}

/// How a link is opened once TCP is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMode {
    /// ECMA-354 StartApplicationSession (OpenScape, simulator).
    ApplicationSession {
        application_id: String,
        duration_secs: Option<u32>,
    },
    /// ECMA-269 SystemRegister (switches that want it).
    SystemRegister,
    /// Nothing: monitors straight away (A5000 port 3211 in non-delimited
    /// mode needs no session).
    None,
}

impl Default for SessionMode {
    fn default() -> Self {
        SessionMode::ApplicationSession {
            application_id: "twp".into(),
            duration_secs: None,
        }
    }
}

/// One supervision link (guide 4.1: address, cluster sites, capacity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSettings {
    pub host: String,
    pub port: u16,
    /// Most devices this link may supervise.
    pub capacity: usize,
    /// Cluster sites served explicitly (`1.1`, `3.*`); may be empty.
    pub sites: Vec<SitePattern>,
    pub protocol: Protocol,
    pub session: SessionMode,
}

impl LinkSettings {
    pub fn csta(host: impl Into<String>, port: u16, capacity: usize) -> LinkSettings {
        LinkSettings {
            host: host.into(),
            port,
            capacity,
            sites: Vec::new(),
            protocol: Protocol::Csta,
            session: SessionMode::default(),
        }
    }

    pub fn with_sites(mut self, sites: &[SitePattern]) -> LinkSettings {
        self.sites = sites.to_vec();
        self
    }
}

/// A device to supervise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSettings {
    pub number: String,
    pub site: SiteCluster,
    /// The voicemail number of the device's user (guide 10.5 "Voicemail");
    /// from the configuration: CSTA has no query for it.
    pub voicemail: Option<String>,
    /// Device lines (guide 10.5 "CCos", soft phones; the agents of a
    /// queue device); from the configuration: CSTA has no query for it.
    pub ccos: Option<u32>,
}

impl DeviceSettings {
    pub fn new(number: impl Into<String>, site: SiteCluster) -> DeviceSettings {
        DeviceSettings {
            number: number.into(),
            site,
            voicemail: None,
            ccos: None,
        }
    }

    pub fn with_voicemail(mut self, number: impl Into<String>) -> DeviceSettings {
        self.voicemail = Some(number.into());
        self
    }

    pub fn with_ccos(mut self, ccos: u32) -> DeviceSettings {
        self.ccos = Some(ccos);
        self
    }
}

/// What is read back from the PBX for each device after its monitor starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resync {
    /// SnapshotDevice: the calls and their states.
    pub calls: bool,
    /// GetDoNotDisturb and GetForwarding.
    pub features: bool,
}

impl Default for Resync {
    fn default() -> Self {
        Resync {
            calls: true,
            features: true,
        }
    }
}

/// Everything [`crate::Telephony::start`] needs.
#[derive(Debug, Clone)]
pub struct TelephonyConfig {
    /// Name of the domain the links belong to (guide 10.4 "Domain").
    pub domain: String,
    pub links: Vec<LinkSettings>,
    pub devices: Vec<DeviceSettings>,
    pub backoff: Backoff,
    pub request_timeout: Duration,
    /// `SystemStatus` heartbeat; detects half-open TCP.
    pub heartbeat_interval: Option<Duration>,
    /// Requests in flight per link while monitoring and resyncing.
    pub window: usize,
    pub resync: Resync,
    /// Events kept for resuming subscribers.
    pub history: usize,
    /// A device used by callback (double call) to call the user first;
    /// it must be one of `devices`.
    pub callback_device: Option<String>,
    /// How long callback waits for each party to answer.
    pub callback_answer_timeout: Duration,
}

impl TelephonyConfig {
    pub fn new(domain: impl Into<String>) -> TelephonyConfig {
        TelephonyConfig {
            domain: domain.into(),
            links: Vec::new(),
            devices: Vec::new(),
            backoff: Backoff::default(),
            request_timeout: Duration::from_secs(5),
            heartbeat_interval: Some(Duration::from_secs(30)),
            window: 256,
            resync: Resync::default(),
            history: 4096,
            callback_device: None,
            callback_answer_timeout: Duration::from_secs(30),
        }
    }

    /// Checks what start-up relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.links.is_empty() {
            return Err(ConfigError::NoLinks);
        }
        for (i, l) in self.links.iter().enumerate() {
            if l.protocol == Protocol::VtiXml {
                return Err(ConfigError::ProtocolNotAvailable { link: i });
            }
            if l.host.trim().is_empty() || l.port == 0 {
                return Err(ConfigError::BadAddress {
                    link: i,
                    host: l.host.clone(),
                    port: l.port,
                });
            }
        }
        let mut seen = HashSet::new();
        for d in &self.devices {
            if d.number.is_empty() {
                return Err(ConfigError::EmptyNumber);
            }
            if !seen.insert(d.number.as_str()) {
                return Err(ConfigError::DuplicateDevice {
                    number: d.number.clone(),
                });
            }
            if d.voicemail.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError::EmptyVoicemail {
                    number: d.number.clone(),
                });
            }
        }
        if let Some(cb) = &self.callback_device
            && !seen.contains(cb.as_str())
        {
            return Err(ConfigError::CallbackDeviceNotSupervised { number: cb.clone() });
        }
        Ok(())
    }
}
