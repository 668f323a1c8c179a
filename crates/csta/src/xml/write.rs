//! A minimal XML writer for CSTA bodies: unprefixed elements, one default
//! namespace on the root, text escaped.

use quick_xml::escape::escape;

use crate::device::DeviceId;
use crate::model::ConnectionId;

pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new(root: &str, namespace: &str) -> XmlWriter {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?><");
        out.push_str(root);
        out.push_str(" xmlns=\"");
        out.push_str(namespace);
        out.push_str("\">");
        XmlWriter { out }
    }

    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out
    }

    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn empty(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str("/>");
    }

    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.out.push_str(&escape(text));
        self.close(name);
    }

    pub fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }

    pub fn display<T: std::fmt::Display>(&mut self, name: &str, value: T) {
        self.leaf(name, &value.to_string());
    }

    pub fn opt_display<T: std::fmt::Display>(&mut self, name: &str, value: Option<T>) {
        if let Some(v) = value {
            self.display(name, v);
        }
    }

    pub fn bool(&mut self, name: &str, value: bool) {
        self.leaf(name, if value { "true" } else { "false" });
    }

    pub fn device(&mut self, name: &str, d: &DeviceId) {
        self.leaf(name, d.raw());
    }

    pub fn opt_device(&mut self, name: &str, d: Option<&DeviceId>) {
        if let Some(d) = d {
            self.device(name, d);
        }
    }

    /// Event-style device: `<name><deviceIdentifier>..</deviceIdentifier></name>`
    /// or `<name><notKnown/></name>`.
    pub fn subject_device(&mut self, name: &str, d: Option<&DeviceId>) {
        self.open(name);
        match d {
            Some(d) => self.leaf("deviceIdentifier", d.raw()),
            None => self.empty("notKnown"),
        }
        self.close(name);
    }

    pub fn connection(&mut self, name: &str, c: &ConnectionId) {
        self.open(name);
        self.opt_leaf("callID", c.call_id.as_deref());
        if let Some(d) = &c.device_id {
            self.leaf("deviceID", d.raw());
        }
        self.close(name);
    }

    pub fn opt_connection(&mut self, name: &str, c: Option<&ConnectionId>) {
        if let Some(c) = c {
            self.connection(name, c);
        }
    }
}
