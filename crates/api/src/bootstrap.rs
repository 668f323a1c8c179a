//! First start ("boot mode", guide 3.2) and password recovery.

use twp_domain::AdminScope;
use twp_store::{Store, StoreError, admins};

use crate::crypto::{CryptoError, hash_password};

/// The factory administrator of the guide.
pub const BOOT_ADMIN: &str = "tws";
pub const BOOT_PASSWORD: &str = "tws";

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Creates `tws`/`tws` as a super user that must change its password, when
/// no administrator exists. Returns whether it did.
pub async fn ensure_boot_admin(store: &Store) -> Result<bool, BootstrapError> {
    let mut tx = store.begin().await?;
    if admins::count(&mut tx).await? > 0 {
        return Ok(false);
    }
    let h = hash_password(BOOT_PASSWORD)?;
    admins::create(&mut tx, BOOT_ADMIN, &h, &AdminScope::SuperUser, true).await?;
    tx.commit().await?;
    tracing::warn!(
        "boot mode: administrator 'tws' with password 'tws' created; it must change its password before anything else"
    );
    Ok(true)
}

/// Sets a new password for `name` (creating it as a super user when it is
/// the boot administrator and missing), unlocks it, ends its sessions, and
/// requires a change at next login. For `twp admin reset-password`.
pub async fn reset_password(
    store: &Store,
    name: &str,
    password: &str,
) -> Result<(), BootstrapError> {
    let h = hash_password(password)?;
    let mut tx = store.begin().await?;
    match admins::credentials(&mut tx, name).await? {
        Some(c) => admins::set_password(&mut tx, c.admin.id, &h, true).await?,
        None if name.eq_ignore_ascii_case(BOOT_ADMIN) => {
            admins::create(&mut tx, BOOT_ADMIN, &h, &AdminScope::SuperUser, true).await?;
        }
        None => return Err(StoreError::NotFound("administrator").into()),
    }
    tx.commit().await?;
    Ok(())
}
