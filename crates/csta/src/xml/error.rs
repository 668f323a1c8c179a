//! Errors of the XML layer: they say what is wrong and where.

/// A message body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("body is not UTF-8 (invalid byte at offset {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },
    #[error("XML syntax error near byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("body holds no XML element")]
    Empty,
    #[error("content after the root element near byte {position}")]
    TrailingContent { position: u64 },
    #[error("elements nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error(
        "<{message}> is in namespace {namespace:?}, not an ECMA-323 (editions 2 to 6) or ECMA-354 one"
    )]
    UnsupportedNamespace { message: String, namespace: String },
    #[error("<{message}>: {source}")]
    Field {
        message: String,
        #[source]
        source: FieldError,
    },
}

/// A field of a known message is missing or has a value outside its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("required element <{0}> is missing")]
    Missing(&'static str),
    #[error("element <{field}> has invalid value {value:?} (expected {expected})")]
    Invalid {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}
