#![allow(dead_code)]
pub mod slapd;
pub mod xlsx;
