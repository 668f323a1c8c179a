//! A synchronised contact, packed for memory: all values in one string,
//! a slot per present field. This is also the persisted form (see
//! [`crate::persist`]): the mapped values after options, and the red list.

use crate::model::ContactField;

/// One contact of one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The values, concatenated.
    data: Box<str>,
    /// `(field index, end offset in data)`, in field order.
    slots: Box<[(u8, u32)]>,
    /// Red-listed phone fields ([`ContactField::phone_bit`]).
    red_list: u8,
}

impl Contact {
    /// Builds a contact from its fields (empty values are dropped; a field
    /// given twice keeps its first value). Values longer than 4 GiB in total
    /// are not supported (truncated at the first that would overflow).
    pub fn new<'a>(
        fields: impl IntoIterator<Item = (ContactField, &'a str)>,
        red_list: u8,
    ) -> Self {
        let mut pairs: Vec<(ContactField, &str)> =
            fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        pairs.sort_by_key(|(f, _)| *f);
        pairs.dedup_by_key(|(f, _)| *f);
        let mut data = String::with_capacity(pairs.iter().map(|(_, v)| v.len()).sum());
        let mut slots = Vec::with_capacity(pairs.len());
        for (field, value) in pairs {
            let Ok(end) = u32::try_from(data.len() + value.len()) else {
                break;
            };
            data.push_str(value);
            slots.push((field as u8, end));
        }
        Self {
            data: data.into_boxed_str(),
            slots: slots.into_boxed_slice(),
            red_list,
        }
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: ContactField) -> Option<&str> {
        let key = field as u8;
        let i = self.slots.binary_search_by_key(&key, |s| s.0).ok()?;
        let start = if i == 0 {
            0
        } else {
            self.slots[i - 1].1 as usize
        };
        self.data.get(start..self.slots[i].1 as usize)
    }

    /// The contact's id in its source (empty if none was mapped).
    pub fn id(&self) -> &str {
        self.get(ContactField::Id).unwrap_or("")
    }

    /// Present fields and their values, in field order.
    pub fn fields(&self) -> impl Iterator<Item = (ContactField, &str)> {
        let mut start = 0usize;
        self.slots.iter().filter_map(move |&(f, end)| {
            let value = self.data.get(start..end as usize);
            start = end as usize;
            Some((ContactField::from_index(f)?, value?))
        })
    }

    /// The red-list mask (bits of [`ContactField::phone_bit`]).
    pub fn red_list(&self) -> u8 {
        self.red_list
    }

    /// Whether the number in `field` is red-listed (hidden, name kept).
    pub fn is_red_listed(&self, field: ContactField) -> bool {
        field.phone_bit().is_some_and(|b| self.red_list & b != 0)
    }

    /// A name to show: display name, else "first last", else company.
    pub fn name(&self) -> String {
        if let Some(d) = self.get(ContactField::DisplayName) {
            return d.to_owned();
        }
        let parts: Vec<&str> = [ContactField::FirstName, ContactField::LastName]
            .iter()
            .filter_map(|f| self.get(*f))
            .collect();
        if parts.is_empty() {
            self.get(ContactField::Company).unwrap_or("").to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.data.len() + self.slots.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContactField as F;

    #[test]
    fn packed_fields_round_trip() {
        let c = Contact::new(
            [
                (F::Mobile, "06"),
                (F::LastName, "Dupont"),
                (F::Id, "7"),
                (F::Company, ""),
                (F::LastName, "Other"),
            ],
            F::Mobile.phone_bit().unwrap(),
        );
        assert_eq!(c.id(), "7");
        assert_eq!(c.get(F::LastName), Some("Dupont"));
        assert_eq!(c.get(F::Mobile), Some("06"));
        assert_eq!(c.get(F::Company), None);
        let fields: Vec<_> = c.fields().collect();
        assert_eq!(
            fields,
            vec![(F::Id, "7"), (F::LastName, "Dupont"), (F::Mobile, "06")]
        );
        assert!(c.is_red_listed(F::Mobile) && !c.is_red_listed(F::Work));
        assert_eq!(c.name(), "Dupont");
        assert_eq!(Contact::new(c.fields(), c.red_list()), c);
    }
}
