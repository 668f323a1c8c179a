//! A directory's settings (guide 8.1: Connector and Fields tabs, 8.2.2
//! merge flag) and its validated field mapping.

use std::borrow::Cow;

use thiserror::Error;
use twp_domain::DomainId;

use crate::connector::SourceRecord;
use crate::contact::Contact;
use crate::model::{ContactField, DirectoryId, DirectoryType, VIP_FIELD_NAME, is_red_list_value};
use crate::options::{FieldMapping, FieldOptions, OptionError, parse_mapping};

/// What a mapping line fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A contact field.
    Field(ContactField),
    /// The red-list flag of a phone field (8.2.4).
    RedList(ContactField),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Field(c) => write!(f, "{c}"),
            Self::RedList(c) => write!(f, "redList.{c}"),
        }
    }
}

/// A refused directory setting; `target` names the mapping line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MappingError {
    /// The mapping text of a field is wrong.
    #[error("field {target}: {error}")]
    Option {
        /// The mapping line.
        target: String,
        /// The problem.
        error: OptionError,
    },
    /// The same target mapped twice.
    #[error("field {0} is mapped twice")]
    Duplicate(String),
    /// A red list on a field that is not a phone number.
    #[error("a red list applies to phone number fields, not to {0}")]
    RedListNotPhone(String),
    /// The id is not mapped (it is the key of synchronisation, 8.4.2).
    #[error("field id must be mapped: it identifies contacts across synchronisations")]
    MissingId,
    /// A private-field name given to a field that is not CustomN.
    #[error("only private fields custom0..custom9 have names, not {0}")]
    NameOnNonCustom(String),
}

/// The validated mapping of a directory.
#[derive(Clone, Debug)]
pub struct Mapping {
    lines: Vec<(Target, FieldMapping)>,
    custom_names: Vec<(ContactField, String)>,
    /// Distinct source fields, in first-use order (what a connector reads).
    sources: Vec<String>,
    /// For each line, the index of its source in `sources`.
    source_of: Vec<usize>,
}

impl Mapping {
    /// Validates mapping lines (`(target, "Surname | u")`) and the names of
    /// private fields (a private field named `[VIP]` is the VIP field, 8.2.3).
    pub fn new<'a>(
        lines: impl IntoIterator<Item = (Target, &'a str)>,
        custom_names: impl IntoIterator<Item = (ContactField, String)>,
    ) -> Result<Self, MappingError> {
        let mut parsed: Vec<(Target, FieldMapping)> = Vec::new();
        for (target, text) in lines {
            if parsed.iter().any(|(t, _)| *t == target) {
                return Err(MappingError::Duplicate(target.to_string()));
            }
            if let Target::RedList(f) = target {
                if !f.is_phone() {
                    return Err(MappingError::RedListNotPhone(f.to_string()));
                }
            }
            let mapping = parse_mapping(text).map_err(|error| MappingError::Option {
                target: target.to_string(),
                error,
            })?;
            parsed.push((target, mapping));
        }
        if !parsed
            .iter()
            .any(|(t, _)| *t == Target::Field(ContactField::Id))
        {
            return Err(MappingError::MissingId);
        }
        let mut names = Vec::new();
        for (field, name) in custom_names {
            if !(ContactField::Custom0..=ContactField::Custom9).contains(&field) {
                return Err(MappingError::NameOnNonCustom(field.to_string()));
            }
            names.push((field, name.trim().to_owned()));
        }
        let mut sources: Vec<String> = Vec::new();
        let mut source_of = Vec::with_capacity(parsed.len());
        for (_, m) in &parsed {
            let i = match sources.iter().position(|s| *s == m.source) {
                Some(i) => i,
                None => {
                    sources.push(m.source.clone());
                    sources.len() - 1
                }
            };
            source_of.push(i);
        }
        Ok(Self {
            lines: parsed,
            custom_names: names,
            sources,
            source_of,
        })
    }

    /// The source fields a connector must read, in order; a
    /// [`SourceRecord`]'s values are aligned with them.
    pub fn source_fields(&self) -> &[String] {
        &self.sources
    }

    /// The options of a field, if it is mapped.
    pub fn options(&self, field: ContactField) -> Option<&FieldOptions> {
        self.lines
            .iter()
            .find(|(t, _)| *t == Target::Field(field))
            .map(|(_, m)| &m.options)
    }

    /// The administrator's name of a private field.
    pub fn custom_name(&self, field: ContactField) -> Option<&str> {
        self.custom_names
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, n)| n.as_str())
    }

    /// The private field named `[VIP]`, if any.
    pub fn vip_field(&self) -> Option<ContactField> {
        self.custom_names
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(VIP_FIELD_NAME))
            .map(|(f, _)| *f)
    }

    /// Maps one source record to a contact; `Err` says why it is ignored.
    pub fn apply(&self, record: &SourceRecord) -> Result<Contact, IgnoreReason> {
        let mut values: [Option<Cow<'_, str>>; ContactField::ALL.len()] =
            std::array::from_fn(|_| None);
        let mut red_list = 0u8;
        for ((target, mapping), &src) in self.lines.iter().zip(&self.source_of) {
            let Some(raw) = record.get(src) else {
                continue;
            };
            match *target {
                Target::Field(field) => {
                    let value = match mapping.options.apply(raw) {
                        Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
                        Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
                        Cow::Owned(v) => Cow::Owned(v.trim().to_owned()),
                    };
                    if !value.is_empty() {
                        values[field as usize] = Some(value);
                    }
                }
                Target::RedList(field) => {
                    if is_red_list_value(raw) {
                        red_list |= field.phone_bit().unwrap_or(0);
                    }
                }
            }
        }
        if values[ContactField::Id as usize].is_none() {
            return Err(IgnoreReason::MissingId);
        }
        Ok(Contact::new(
            ContactField::ALL
                .iter()
                .zip(&values)
                .filter_map(|(f, v)| v.as_deref().map(|v| (*f, v))),
            red_list,
        ))
    }
}

/// Why a source record was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum IgnoreReason {
    /// The mapped id is empty.
    #[error("the id field is empty")]
    MissingId,
    /// Another record has the same id.
    #[error("duplicate id {id:?} (first seen at {first})")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where the first record with that id was.
        first: String,
    },
    /// The connector could not read the record.
    #[error("{0}")]
    Unreadable(String),
}

/// A directory: settings of the Connector and Fields tabs (the connector's
/// own settings live with the connector).
#[derive(Clone, Debug)]
pub struct Directory {
    /// Identifier.
    pub id: DirectoryId,
    /// The domain the directory belongs to (its dialing plan canonicalises
    /// the numbers).
    pub domain: DomainId,
    /// Name (description).
    pub name: String,
    /// Sample/Draft, TWP (public) or Private.
    pub kind: DirectoryType,
    /// The lowest number wins when several directories know a caller.
    pub priority: u32,
    /// Merge contacts with the same e-mail (8.2.2).
    pub merge_contacts: bool,
    /// The validated field mapping.
    pub mapping: Mapping,
}
