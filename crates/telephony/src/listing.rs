//! The PBX's own device list (the guide's "A5000 INT" subscriber list),
//! read through a running link with ECMA-269 Get Switching Function
//! Devices: the request, its acknowledgement, then the segments until the
//! last one (the `twp_csta::Link` collects them by cross reference).

use twp_csta::{DeviceCategory, ListedDevice};

use crate::error::ListError;
use crate::service::Telephony;

/// Most devices a list may hold: far above any PBX, low enough that a
/// switch sending segments forever cannot exhaust memory.
pub const MAX_LISTED_DEVICES: usize = 500_000;

impl Telephony {
    /// The devices the PBX lists on link `link` (of `category` only, if
    /// given). Fails at once when the link is down; each segment must
    /// come within the request timeout.
    pub async fn switching_function_devices(
        &self,
        link: usize,
        category: Option<DeviceCategory>,
    ) -> Result<Vec<ListedDevice>, ListError> {
        let provider = self
            .inner
            .providers
            .get(link)
            .ok_or(ListError::UnknownLink { link })?;
        let live = provider.live_link().ok_or_else(|| ListError::LinkDown {
            link,
            host: provider.settings.host.clone(),
            port: provider.settings.port,
            reason: provider.last_error(),
        })?;
        Ok(live
            .switching_function_devices(category, MAX_LISTED_DEVICES)
            .await?)
    }
}
