//! Field look-ups on the element tree, with typed errors.

use std::str::FromStr;

use super::error::FieldError;
use super::tree::Element;
use crate::device::DeviceId;
use crate::model::ConnectionId;

pub(crate) type FieldResult<T> = Result<T, FieldError>;

/// A value written as an ECMA-323 enumeration token.
pub(crate) trait Token: Sized {
    const EXPECTED: &'static str;
    fn from_token(s: &str) -> Option<Self>;
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// First element named `name` at any depth below this one.
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.descendant(name)
            }
        })
    }

    /// Every element named `name` below this one (not below a match).
    pub fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            } else {
                c.descendants(name, out);
            }
        }
    }

    pub fn req(&self, name: &'static str) -> FieldResult<&Element> {
        self.child(name).ok_or(FieldError::Missing(name))
    }

    pub fn text(&self) -> &str {
        self.text.trim()
    }

    pub fn opt_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text().to_owned())
    }

    pub fn req_text(&self, name: &'static str) -> FieldResult<String> {
        Ok(self.req(name)?.text().to_owned())
    }

    pub fn opt_parse<T: FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> FieldResult<Option<T>> {
        match self.child(name) {
            None => Ok(None),
            Some(c) => c.text().parse().map(Some).map_err(|_| FieldError::Invalid {
                field: name,
                value: c.text().to_owned(),
                expected,
            }),
        }
    }

    pub fn opt_bool(&self, name: &'static str) -> FieldResult<Option<bool>> {
        match self.child(name) {
            None => Ok(None),
            Some(c) => match c.text() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                other => Err(FieldError::Invalid {
                    field: name,
                    value: other.to_owned(),
                    expected: "true or false",
                }),
            },
        }
    }

    pub fn req_bool(&self, name: &'static str) -> FieldResult<bool> {
        self.opt_bool(name)?.ok_or(FieldError::Missing(name))
    }

    pub fn opt_token<T: Token>(&self, name: &'static str) -> FieldResult<Option<T>> {
        match self.child(name) {
            None => Ok(None),
            Some(c) => c.as_token(name).map(Some),
        }
    }

    /// This element's own text as a token.
    pub fn as_token<T: Token>(&self, field: &'static str) -> FieldResult<T> {
        T::from_token(self.text()).ok_or_else(|| FieldError::Invalid {
            field,
            value: self.text().to_owned(),
            expected: T::EXPECTED,
        })
    }

    pub fn req_token<T: Token>(&self, name: &'static str) -> FieldResult<T> {
        self.opt_token(name)?.ok_or(FieldError::Missing(name))
    }

    /// A device given directly as text (`<callingDevice>1234</callingDevice>`).
    pub fn req_device(&self, name: &'static str) -> FieldResult<DeviceId> {
        self.opt_device(name)?.ok_or(FieldError::Missing(name))
    }

    pub fn opt_device(&self, name: &'static str) -> FieldResult<Option<DeviceId>> {
        Ok(self.child(name).and_then(device_in))
    }

    /// A device wrapped as events carry it
    /// (`<callingDevice><deviceIdentifier>..</deviceIdentifier></callingDevice>`),
    /// `None` for `<notKnown/>`, `<notRequired/>` or absence.
    pub fn subject_device(&self, name: &str) -> Option<DeviceId> {
        self.child(name).and_then(device_in)
    }

    pub fn req_connection(&self, name: &'static str) -> FieldResult<ConnectionId> {
        self.opt_connection(name)?.ok_or(FieldError::Missing(name))
    }

    pub fn opt_connection(&self, name: &'static str) -> FieldResult<Option<ConnectionId>> {
        Ok(self.child(name).map(connection_in))
    }
}

/// Device text in an element: its own text, or that of a nested
/// `deviceIdentifier` / `deviceObject` / `deviceID` (whatever the edition).
pub(crate) fn device_in(el: &Element) -> Option<DeviceId> {
    if !el.text().is_empty() {
        return Some(DeviceId::from_wire(el.text()));
    }
    for inner in [
        "deviceIdentifier",
        "deviceObject",
        "deviceID",
        "staticID",
        "dynamicID",
    ] {
        if let Some(c) = el.child(inner)
            && let Some(d) = device_in(c)
        {
            return Some(d);
        }
    }
    None
}

pub(crate) fn connection_in(el: &Element) -> ConnectionId {
    ConnectionId {
        call_id: el.opt_text("callID").filter(|s| !s.is_empty()),
        device_id: el.child("deviceID").and_then(device_in),
    }
}
