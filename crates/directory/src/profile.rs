//! What queries return: a profile, made of one contact or, with merging
//! (8.2.2), of the contacts sharing an e-mail address in the allowed
//! directories that have the merge flag. Fields are read from the members in
//! priority order (lowest number first). Members hold `Arc`s of their
//! generation: a profile stays valid after a synchronisation swaps it out.

use std::sync::Arc;

use crate::contact::Contact;
use crate::directory::Directory;
use crate::engine::View;
use crate::fold::fold;
use crate::index::Generation;
use crate::model::{ContactField, DirectoryId};

/// One contact of a profile.
#[derive(Clone)]
pub struct Member {
    directory: Arc<Directory>,
    generation: Arc<Generation>,
    index: u32,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("directory", &self.directory.id)
            .field("id", &self.contact().id())
            .finish()
    }
}

impl Member {
    /// The member's directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The contact.
    pub fn contact(&self) -> &Contact {
        static EMPTY: std::sync::OnceLock<Contact> = std::sync::OnceLock::new();
        self.generation
            .contact(self.index)
            .unwrap_or_else(|| EMPTY.get_or_init(|| Contact::new([], 0)))
    }

    /// The value of the directory's VIP field, when filled (8.2.3).
    pub fn vip(&self) -> Option<&str> {
        self.contact().get(self.directory.mapping.vip_field()?)
    }
}

/// A phone number as shown to users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number<'a> {
    /// Not known.
    Absent,
    /// Red-listed: the number exists but is not shown (8.2.4).
    Hidden,
    /// The number.
    Visible(&'a str),
}

/// A contact as presented: one or several merged members.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Members in priority order.
    members: Vec<Member>,
    /// The member the query found.
    found: usize,
}

impl Profile {
    /// The members, in priority order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member the query found (for a look-up: whose number matched).
    pub fn found(&self) -> &Member {
        &self.members[self.found]
    }

    /// A field's value from the first member having it, with its directory.
    /// Phone fields go through [`Profile::number`], which hides red-listed ones.
    pub fn get(&self, field: ContactField) -> Option<(&str, DirectoryId)> {
        if field.is_phone() {
            return match self.number(field) {
                (Number::Visible(v), Some(d)) => Some((v, d)),
                _ => None,
            };
        }
        self.members
            .iter()
            .find_map(|m| m.contact().get(field).map(|v| (v, m.directory.id)))
    }

    /// A phone field: the first member having it decides; red-listed there
    /// means hidden.
    pub fn number(&self, field: ContactField) -> (Number<'_>, Option<DirectoryId>) {
        for m in &self.members {
            if let Some(v) = m.contact().get(field) {
                let shown = if m.contact().is_red_listed(field) {
                    Number::Hidden
                } else {
                    Number::Visible(v)
                };
                return (shown, Some(m.directory.id));
            }
        }
        (Number::Absent, None)
    }

    /// The name to show.
    pub fn name(&self) -> String {
        for m in &self.members {
            let n = m.contact().name();
            if !n.is_empty() {
                return n;
            }
        }
        String::new()
    }

    /// The VIP text, when a member's VIP field is filled.
    pub fn vip(&self) -> Option<&str> {
        self.members.iter().find_map(Member::vip)
    }

    /// Builds the profile of contact `index` of `views[at]`, merging when
    /// that directory has the merge flag.
    pub(crate) fn build(views: &[View], at: usize, index: u32) -> Self {
        let (dir, generation) = &views[at];
        let found = Member {
            directory: Arc::clone(dir),
            generation: Arc::clone(generation),
            index,
        };
        if !dir.merge_contacts {
            return Self {
                members: vec![found],
                found: 0,
            };
        }
        let emails: Vec<String> = ContactField::EMAILS
            .iter()
            .filter_map(|f| found.contact().get(*f))
            .map(fold)
            .collect();
        let mut members = Vec::new();
        let mut found_at = 0;
        for (pos, (d, g)) in views.iter().enumerate() {
            if pos == at {
                found_at = members.len();
                members.push(found.clone());
                continue;
            }
            if !d.merge_contacts {
                continue;
            }
            if let Some(i) = emails.iter().find_map(|e| g.find_email(e)) {
                members.push(Member {
                    directory: Arc::clone(d),
                    generation: Arc::clone(g),
                    index: i,
                });
            }
        }
        Self {
            members,
            found: found_at,
        }
    }

    /// Position in `views` and index of every member (for de-duplication).
    pub(crate) fn positions<'a>(
        &'a self,
        views: &'a [View],
    ) -> impl Iterator<Item = (usize, u32)> + 'a {
        self.members.iter().filter_map(move |m| {
            views
                .iter()
                .position(|(d, _)| d.id == m.directory.id)
                .map(|p| (p, m.index))
        })
    }
}
