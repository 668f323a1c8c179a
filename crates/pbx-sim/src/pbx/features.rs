//! Device features: forwarding and do not disturb.

use twp_csta::{CstaError, DeviceId, ErrorCategory, EventKind, ForwardingEntry, ForwardingType};

use super::{DeviceKind, Effects, Pbx, PbxResult, invalid_device};

impl Pbx {
    fn extension_mut(&mut self, number: &str) -> PbxResult<&mut super::Device> {
        self.devices
            .get_mut(number)
            .filter(|d| matches!(d.kind, DeviceKind::Extension { .. }))
            .ok_or_else(|| invalid_device(number))
    }

    /// Activates (with a destination) or cancels a forwarding rule.
    pub fn set_forwarding(
        &mut self,
        device: &str,
        kind: ForwardingType,
        activate: bool,
        destination: Option<&str>,
        fx: &mut Effects,
    ) -> PbxResult<()> {
        self.extension_mut(device)?;
        let destination = match (activate, destination) {
            (true, Some(d)) => Some(self.resolve(d)?),
            (true, None) => {
                return Err(CstaError::new(
                    ErrorCategory::Operation,
                    "invalidForwardingDestination",
                ));
            }
            (false, _) => None,
        };
        let d = self.extension_mut(device)?;
        match &destination {
            Some(to) => d.forwarding.insert(kind, to.clone()),
            None => d.forwarding.remove(&kind),
        };
        fx.note(
            vec![device.to_owned()],
            None,
            EventKind::Forwarding {
                device: Some(DeviceId::new(device)),
                forwarding_type: Some(kind),
                forward_status: activate,
                forward_to: destination.as_deref().map(DeviceId::new),
            },
        );
        Ok(())
    }

    pub fn get_forwarding(&self, device: &str) -> PbxResult<Vec<ForwardingEntry>> {
        let d = self.device(device).ok_or_else(|| invalid_device(device))?;
        Ok(d.forwarding
            .iter()
            .map(|(t, to)| ForwardingEntry {
                forwarding_type: *t,
                forward_status: true,
                forward_dn: Some(DeviceId::new(to.clone())),
            })
            .collect())
    }

    pub fn set_do_not_disturb(
        &mut self,
        device: &str,
        on: bool,
        fx: &mut Effects,
    ) -> PbxResult<()> {
        let d = self.extension_mut(device)?;
        d.do_not_disturb = on;
        fx.note(
            vec![device.to_owned()],
            None,
            EventKind::DoNotDisturb {
                device: Some(DeviceId::new(device)),
                do_not_disturb_on: on,
            },
        );
        Ok(())
    }

    pub fn do_not_disturb(&self, device: &str) -> PbxResult<bool> {
        self.device(device)
            .map(|d| d.do_not_disturb)
            .ok_or_else(|| invalid_device(device))
    }
}
