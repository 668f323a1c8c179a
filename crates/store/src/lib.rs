//! TWP store (in progress).
