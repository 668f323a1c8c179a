//! One test binary for twp-access (builds once, runs everything).
#![allow(clippy::unwrap_used)]

mod auth;
mod authz;
mod license;
mod params;
