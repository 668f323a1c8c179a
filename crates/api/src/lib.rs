//! TWP API (in progress).
