//! The TWP-users directory: the users of the domain (names, e-mail, GSM,
//! their devices' numbers) read from the store as a directory source.

use std::sync::Arc;

use twp_directory::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};
use twp_store::directories::private::DirectoryUser;

/// The source fields a TWP-users record has.
pub const FIELDS: &[&str] = &[
    "id",
    "lastName",
    "firstName",
    "displayName",
    "email",
    "number",
    "gsm",
    "number2",
];

/// The domain's users, read once from the store before the run.
pub struct UsersConnector {
    users: Arc<Vec<DirectoryUser>>,
}

impl UsersConnector {
    pub fn new(users: Arc<Vec<DirectoryUser>>) -> Self {
        Self { users }
    }
}

struct Stream {
    users: Arc<Vec<DirectoryUser>>,
    /// For each requested field, its index in [`FIELDS`].
    wanted: Vec<usize>,
    next: usize,
}

fn value(u: &DirectoryUser, field: usize) -> String {
    match field {
        0 => u.id.0.to_string(),
        1 => u.last_name.clone().unwrap_or_default(),
        2 => u.first_name.clone().unwrap_or_default(),
        // the user name names a user who has no first or last name
        3 if u.first_name.is_none() && u.last_name.is_none() => u.user_name.clone(),
        4 => u.email.clone().unwrap_or_default(),
        5 => u.numbers.first().cloned().unwrap_or_default(),
        6 => u.gsm.clone().unwrap_or_default(),
        7 => u.numbers.get(1).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

impl RecordStream for Stream {
    fn next_record(&mut self, out: &mut SourceRecord) -> Result<ReadOutcome, ConnectorError> {
        let Some(u) = self.users.get(self.next) else {
            return Ok(ReadOutcome::End);
        };
        self.next += 1;
        out.reset(Location::Row(self.next as u64));
        for (i, f) in self.wanted.iter().enumerate() {
            out.set(i, &value(u, *f));
        }
        Ok(ReadOutcome::Record)
    }

    fn progress(&self) -> Option<(u64, u64)> {
        Some((self.next as u64, self.users.len() as u64))
    }
}

impl Connector for UsersConnector {
    fn test_connection(&mut self) -> Result<ConnectionTest, ConnectorError> {
        Ok(ConnectionTest {
            fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            detail: format!("{} users in the domain", self.users.len()),
        })
    }

    fn open<'a>(
        &'a mut self,
        fields: &[String],
    ) -> Result<Box<dyn RecordStream + 'a>, ConnectorError> {
        let wanted = fields
            .iter()
            .map(|f| {
                FIELDS
                    .iter()
                    .position(|k| k == f)
                    .ok_or_else(|| ConnectorError::MissingField {
                        field: f.clone(),
                        available: FIELDS.join(", "),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Box::new(Stream {
            users: Arc::clone(&self.users),
            wanted,
            next: 0,
        }))
    }
}
