//! The outside world of a simulated PBX, for demonstrations and training:
//! a caller dials in, a phone answers or hangs up, the links drop. The API
//! only knows this trait; `twp demo` plugs the PBX simulator in.

/// What a simulated PBX lets an operator make happen.
pub trait PbxScenario: Send + Sync {
    /// An outside number calls a device; returns the call id.
    fn external_call(&self, from: &str, to: &str) -> Result<String, String>;
    /// The device answers its ringing call; returns the call id.
    fn answer(&self, device: &str) -> Result<String, String>;
    /// The device hangs up; returns the call id.
    fn hang_up(&self, device: &str) -> Result<String, String>;
    /// Drops every CSTA link (link loss); returns how many.
    fn drop_links(&self) -> usize;
}
