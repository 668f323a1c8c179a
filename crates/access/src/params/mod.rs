//! Application parameters (guide 9, 10.2): the catalogue, value types, and
//! resolution from default to domain, group and user.

mod catalogue;
mod store;
mod value;

pub use catalogue::{AUTH_METHOD_WORDS, CATALOGUE, ParamApp, ParamDef};
pub use store::{Level, ParamError, ParamStore, Resolved, Source, UserScope};
pub use value::{ParamType, Value, ValueError, parse_value};
