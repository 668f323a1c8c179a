//! A synchronised contact, packed for memory: all values in one string,
//! a slot per present field. This is also the persisted form (see
//! [`crate::persist`]): the mapped values after options, and the red list.

use crate::model::ContactField;

/// One contact of one directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The values, concatenated in field order.
    data: Box<str>,
    /// End offset in `data` of each present field, in field order.
    ends: Box<[u32]>,
    /// Bit `i` set when field `ContactField::ALL[i]` is present: a field's
    /// slot is the number of present fields before it (one popcount).
    present: u32,
    /// Red-listed phone fields ([`ContactField::phone_bit`]).
    red_list: u8,
}

const _: () = assert!(ContactField::ALL.len() <= 32);

impl Contact {
    /// Builds a contact from its fields (empty values are dropped; a field
    /// given twice keeps its first value). Values beyond 4 GiB in total are
    /// dropped.
    pub fn new<'a>(
        fields: impl IntoIterator<Item = (ContactField, &'a str)>,
        red_list: u8,
    ) -> Self {
        let mut values: [&str; ContactField::ALL.len()] = [""; ContactField::ALL.len()];
        for (field, value) in fields {
            let slot = &mut values[field as usize];
            if slot.is_empty() {
                *slot = value;
            }
        }
        let total: usize = values.iter().map(|v| v.len()).sum();
        let mut data = String::with_capacity(total);
        let mut ends = Vec::with_capacity(values.iter().filter(|v| !v.is_empty()).count());
        let mut present = 0u32;
        for (i, value) in values.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let Ok(end) = u32::try_from(data.len() + value.len()) else {
                break;
            };
            data.push_str(value);
            ends.push(end);
            present |= 1 << i;
        }
        Self {
            data: data.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            present,
            red_list,
        }
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: ContactField) -> Option<&str> {
        let bit = 1u32 << (field as u32);
        if self.present & bit == 0 {
            return None;
        }
        let slot = (self.present & (bit - 1)).count_ones() as usize;
        let start = if slot == 0 {
            0
        } else {
            *self.ends.get(slot - 1)? as usize
        };
        self.data.get(start..*self.ends.get(slot)? as usize)
    }

    /// The contact's id in its source (empty if none was mapped).
    pub fn id(&self) -> &str {
        self.get(ContactField::Id).unwrap_or("")
    }

    /// Present fields and their values, in field order.
    pub fn fields(&self) -> impl Iterator<Item = (ContactField, &str)> {
        ContactField::ALL
            .iter()
            .filter_map(|f| self.get(*f).map(|v| (*f, v)))
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

    /// Feeds everything the contact holds to `h` (see
    /// [`crate::derived::contacts_digest`]).
    pub(crate) fn digest_into(&self, h: &mut impl std::hash::Hasher) {
        h.write(self.data.as_bytes());
        for e in &self.ends {
            h.write_u32(*e);
        }
        h.write_u32(self.present);
        h.write_u8(self.red_list);
    }

    /// Approximate heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.data.len() + self.ends.len() * 4
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
