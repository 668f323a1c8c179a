//! Simulator configuration: links, devices, timers, limits.

use std::net::SocketAddr;
use std::time::Duration;

use twp_csta::Framing;

/// What a configured number is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRole {
    /// A phone at a site.cluster such as `1.1`.
    Extension { site_cluster: String },
    /// A queue/hunt device; `members` are its CCOs (agents' extensions).
    HuntGroup { members: Vec<String> },
    /// The voicemail server (one per PBX).
    Voicemail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    pub number: String,
    pub role: DeviceRole,
    pub name: Option<String>,
    /// Busy / no-answer calls go to voicemail when no forwarding applies.
    pub voicemail: bool,
    /// Pickup group; extensions default to their site.cluster.
    pub pickup_group: Option<String>,
}

impl DeviceConfig {
    pub fn extension(number: impl Into<String>, site_cluster: impl Into<String>) -> DeviceConfig {
        DeviceConfig {
            number: number.into(),
            role: DeviceRole::Extension {
                site_cluster: site_cluster.into(),
            },
            name: None,
            voicemail: false,
            pickup_group: None,
        }
    }

    pub fn hunt_group(number: impl Into<String>, members: Vec<String>) -> DeviceConfig {
        DeviceConfig {
            number: number.into(),
            role: DeviceRole::HuntGroup { members },
            name: None,
            voicemail: false,
            pickup_group: None,
        }
    }

    pub fn voicemail_server(number: impl Into<String>) -> DeviceConfig {
        DeviceConfig {
            number: number.into(),
            role: DeviceRole::Voicemail,
            name: None,
            voicemail: false,
            pickup_group: None,
        }
    }

    pub fn named(mut self, name: impl Into<String>) -> DeviceConfig {
        self.name = Some(name.into());
        self
    }

    pub fn with_voicemail(mut self) -> DeviceConfig {
        self.voicemail = true;
        self
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// One CSTA link endpoint per address (port 0 picks a free port).
    pub listen: Vec<SocketAddr>,
    pub devices: Vec<DeviceConfig>,
    /// Ringing time before forward-on-no-answer or voicemail applies.
    pub no_answer_timeout: Duration,
    /// Outside parties answer after this delay; `None`: only on demand.
    pub external_answer_after: Option<Duration>,
    /// Capacity of a link: monitors it may hold.
    pub monitors_per_link: usize,
    pub framing: Framing,
    pub max_frame_len: usize,
    /// Frames queued for a link before it is dropped as too slow.
    pub link_queue: usize,
    /// Whether `GetSwitchingFunctionDevices` is offered (the device list).
    pub device_list: bool,
    /// Devices per `SwitchingFunctionDevices` segment.
    pub devices_per_segment: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            devices: Vec::new(),
            no_answer_timeout: Duration::from_secs(15),
            external_answer_after: Some(Duration::from_secs(2)),
            monitors_per_link: 10_000,
            framing: Framing::LengthPrefixed,
            max_frame_len: twp_csta::frame::MAX_WIRE_LEN,
            link_queue: 65_536,
            device_list: true,
            devices_per_segment: 100,
        }
    }
}

impl SimConfig {
    /// Extensions `first..first+count` at `site_cluster`, each with voicemail.
    pub fn with_extensions(mut self, first: u64, count: u64, site_cluster: &str) -> SimConfig {
        for n in first..first + count {
            self.devices
                .push(DeviceConfig::extension(n.to_string(), site_cluster).with_voicemail());
        }
        self
    }

    pub fn with_device(mut self, d: DeviceConfig) -> SimConfig {
        self.devices.push(d);
        self
    }

    /// A small PBX for `twp demo`: extensions 1000-1019 at site 1.1 and
    /// 2000-2009 at 2.1, a hunt group 1900 with CCOs 1010-1012, voicemail
    /// 1999, listening on 127.0.0.1:3211 (the A5000 default CSTA port).
    pub fn demo() -> SimConfig {
        SimConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 3211))],
            ..SimConfig::default()
        }
        .with_extensions(1000, 20, "1.1")
        .with_extensions(2000, 10, "2.1")
        .with_device(DeviceConfig::hunt_group(
            "1900",
            vec!["1010".into(), "1011".into(), "1012".into()],
        ))
        .with_device(DeviceConfig::voicemail_server("1999"))
    }
}
