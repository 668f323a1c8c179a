//! ECMA-323 XML: the element tree, field readers, the writer and the
//! message codec.

pub mod error;
pub(crate) mod read;
pub(crate) mod tree;
pub(crate) mod write;
