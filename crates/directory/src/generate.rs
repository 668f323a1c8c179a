//! Seeded synthetic directories: realistic people with French, German, UK
//! and US numbers in messy formats, accented names, missing fields,
//! duplicate e-mails across directories, one in a hundred red-listed.
//!
//! [`People`] is a deterministic iterator: the same seed gives the same
//! people, so a benchmark can write the files, drop everything, load them,
//! and then walk the people again to check the look-up
//! ([`Person::presented`]: the numbers as a PBX presents them, each with the
//! records that must be found). Output goes through [`RecordSink`]:
//! [`CsvSink`] and [`LdifSink`] today; an XLSX or SQL sink is one more
//! implementation.
//!
//! Every number's last 9 digits are unique across the data set, so the
//! suffix comparison of the reverse look-up (internal reverse length 9)
//! names the right person whatever form is presented.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::connector::encoding::encode_windows_1252;

/// Column names of generated directories, in order.
pub const COLUMNS: [&str; 16] = [
    "id",
    "sn",
    "givenName",
    "displayName",
    "company",
    "mail",
    "telephoneNumber",
    "mobile",
    "homePhone",
    "switchboard",
    "assistant",
    "url",
    "postalAddress",
    "private",
    "vip",
    "photo",
];

/// Generation settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// Number of people (each is in directory 0).
    pub people: usize,
    /// Share of people also in directory 1 (same e-mail, fewer fields).
    pub duplicate_share: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 42,
            people: 500_000,
            duplicate_share: 0.1,
        }
    }
}

/// One record of one directory: values aligned with [`COLUMNS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 0 (main directory) or 1 (duplicates).
    pub directory: usize,
    /// Values, empty when missing.
    pub values: [String; COLUMNS.len()],
}

impl Row {
    /// The `id` column.
    pub fn id(&self) -> &str {
        &self.values[0]
    }
}

/// A number as a PBX presents it, and the records that own it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    /// E.g. `+33123456789`, `0123456789`, `0033123456789`, `33123456789`.
    pub number: String,
}

/// One generated person.
#[derive(Clone, Debug)]
pub struct Person {
    /// The records (directory 0, maybe directory 1).
    pub rows: Vec<Row>,
    /// Every personal number in every form a PBX may present.
    pub presented: Vec<Presented>,
    /// Forms the dialing plan cannot read unambiguously (kept apart so a
    /// coverage check can report them).
    pub ambiguous: Vec<Presented>,
    /// The person's numbers in E.164.
    pub e164: Vec<String>,
}

/// SplitMix64: small, fast, good enough for synthetic data, and stable
/// across versions (no dependency whose stream could change).
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Élodie",
    "Jérôme",
    "François",
    "Hélène",
    "Noël",
    "Zoé",
    "Loïc",
    "Anaïs",
    "Cécile",
    "Gaël",
    "Jean-Pierre",
    "Marie",
    "Camille",
    "Léa",
    "Théo",
    "Jürgen",
    "Jörg",
    "Björn",
    "Käthe",
    "Uwe",
    "Sören",
    "Lena",
    "Maximilian",
    "Oliver",
    "Amelia",
    "Siobhán",
    "Seán",
    "Harry",
    "Isla",
    "Emily",
    "James",
    "Olivia",
    "Liam",
    "Sophia",
    "Noah",
    "José",
    "Mónica",
    "Zoë",
    "Renée",
    "Chloé",
];
const LAST: &[&str] = &[
    "Müller",
    "Schröder",
    "Groß",
    "Weiß",
    "Köhler",
    "Bäcker",
    "Lefèvre",
    "Dupont",
    "Côté",
    "Bérénger",
    "Martin",
    "Bernard",
    "Durand",
    "Lemaître",
    "Giraud",
    "Rousseau",
    "Faure",
    "Noël",
    "Smith",
    "Jones",
    "O'Brien",
    "MacDonald",
    "Taylor",
    "Brown",
    "Wilson",
    "Johnson",
    "García",
    "Núñez",
    "Peña",
    "Łukasz",
    "Dvořák",
    "Østergaard",
    "Ångström",
    "Fischer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Moreau",
    "Laurent",
];
const COMPANIES: &[&str] = &[
    "Société Générale d'Équipement",
    "Bäckerei Groß GmbH",
    "Acme Ltd",
    "Globex Corp",
    "Café de Flore",
    "Müller & Söhne KG",
    "Initech",
    "Hôtel du Lac",
    "Umbrella plc",
    "Crédit Régional",
    "Stark Industries",
    "Wayne Enterprises",
    "Électricité du Nord",
    "Brauerei Köln",
    "Thames Water Works",
];
const CITIES: &[&str] = &[
    "Paris",
    "Lyon",
    "Orléans",
    "Besançon",
    "München",
    "Köln",
    "Düsseldorf",
    "London",
    "Edinburgh",
    "New York",
    "Boston",
];
const RED_VALUES: &[&str] = &["1", "true", "yes", "Y", "lr", "rf"];
const NOT_RED: &[&str] = &["0", "no", "", "false", "n"];

/// Countries of generated numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Country {
    France,
    Germany,
    Uk,
    Us,
}

impl Country {
    fn code(self) -> &'static str {
        match self {
            Self::France => "33",
            Self::Germany => "49",
            Self::Uk => "44",
            Self::Us => "1",
        }
    }
}

/// A number: country and national significant number.
#[derive(Clone, Debug)]
struct Phone {
    country: Country,
    nsn: String,
}

impl Phone {
    fn e164(&self) -> String {
        format!("+{}{}", self.country.code(), self.nsn)
    }

    /// As typed in a directory: messy, sometimes with an extension.
    fn stored(&self, rng: &mut Rng) -> String {
        let n = &self.nsn;
        let cc = self.country.code();
        let mut s = match self.country {
            Country::France => {
                let pairs: Vec<&str> = (1..9).step_by(2).map(|i| &n[i..i + 2]).collect();
                match rng.below(6) {
                    0 => format!("+33 (0){} {}", &n[..1], pairs.join(" ")),
                    1 => format!("0033 {} {}", &n[..1], pairs.join(" ")),
                    2 => format!("0{}.{}", &n[..1], pairs.join(".")),
                    3 => format!("0{} {}", &n[..1], pairs.join(" ")),
                    4 => format!("+33{n}"),
                    _ => format!("0{n}"),
                }
            }
            Country::Germany => match rng.below(3) {
                0 => format!("+49 {} {}", &n[..2], &n[2..]),
                1 => format!("+49 (0){} {}-{}", &n[..2], &n[2..6], &n[6..]),
                _ => format!("0049 {} {}", &n[..2], &n[2..]),
            },
            Country::Uk => match rng.below(3) {
                0 => format!("+44 {} {} {}", &n[..2], &n[2..6], &n[6..]),
                1 => format!("+44 (0){} {} {}", &n[..2], &n[2..6], &n[6..]),
                _ => format!("0044 {} {}", &n[..2], &n[2..]),
            },
            Country::Us => match rng.below(3) {
                0 => format!("+1 {}-{}-{}", &n[..3], &n[3..6], &n[6..]),
                1 => format!("+1 ({}) {}-{}", &n[..3], &n[3..6], &n[6..]),
                _ => format!("00{cc} {} {} {}", &n[..3], &n[3..6], &n[6..]),
            },
        };
        if rng.chance(0.05) {
            let ext = rng.below(900) + 100;
            s.push_str(match rng.below(3) {
                0 => " x",
                1 => " ext. ",
                _ => " poste ",
            });
            s.push_str(&ext.to_string());
        }
        s
    }

    /// The forms a PBX may present for an incoming call, and those the
    /// guide's French parameters cannot read (external prefix `0` + national
    /// number `0…` of a number starting with `33` reads as `0033…`, see
    /// twp-dialplan's documentation on ambiguities).
    fn presented(&self) -> (Vec<String>, Vec<String>) {
        let (cc, n) = (self.country.code(), &self.nsn);
        let mut out = vec![
            format!("+{cc}{n}"),
            format!("00{cc}{n}"),
            format!("{cc}{n}"),
        ];
        let mut ambiguous = Vec::new();
        if self.country == Country::France {
            out.push(format!("0{n}"));
            let external_national = format!("00{n}");
            if n.starts_with("33") {
                ambiguous.push(external_national);
            } else {
                out.push(external_national);
            }
        }
        (out, ambiguous)
    }
}

/// The deterministic stream of people.
pub struct People {
    rng: Rng,
    config: Config,
    next: usize,
    /// Last 9 digits already used (uniqueness of suffixes).
    used: HashSet<u32>,
    switchboards: Vec<Phone>,
}

impl People {
    /// The people of `config`.
    pub fn new(config: Config) -> Self {
        let mut people = Self {
            rng: Rng(config.seed),
            config,
            next: 0,
            used: HashSet::with_capacity(config.people * 3),
            switchboards: Vec::new(),
        };
        for _ in COMPANIES {
            let country = people.country();
            let phone = people.phone(country, false);
            people.switchboards.push(phone);
        }
        people
    }

    fn country(&mut self) -> Country {
        match self.rng.below(100) {
            0..=49 => Country::France,
            50..=69 => Country::Germany,
            70..=84 => Country::Uk,
            _ => Country::Us,
        }
    }

    /// A number whose last 9 digits were never used.
    fn phone(&mut self, country: Country, mobile: bool) -> Phone {
        loop {
            let nsn = match country {
                Country::France => {
                    let lead = if mobile {
                        6 + self.rng.below(2)
                    } else {
                        1 + self.rng.below(5)
                    };
                    format!("{lead}{:08}", self.rng.below(100_000_000))
                }
                Country::Germany => {
                    let area = if mobile { "15" } else { "30" };
                    format!("{area}{:08}", self.rng.below(100_000_000))
                }
                Country::Uk => {
                    if mobile {
                        format!("7{:09}", self.rng.below(1_000_000_000))
                    } else {
                        format!("20{:08}", self.rng.below(100_000_000))
                    }
                }
                Country::Us => format!(
                    "{}{:02}{:07}",
                    2 + self.rng.below(8),
                    self.rng.below(100),
                    self.rng.below(10_000_000)
                ),
            };
            let tail = &nsn[nsn.len().saturating_sub(9)..];
            let key: u32 = tail.parse().unwrap_or(0);
            if self.used.insert(key) {
                return Phone { country, nsn };
            }
        }
    }

    fn person(&mut self, n: usize) -> Person {
        let rng = &mut self.rng;
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let company_at = rng.below(COMPANIES.len() as u64) as usize;
        let company = COMPANIES[company_at];
        let domain: String = crate::fold::fold(company)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        let local: String = crate::fold::fold(&format!("{first}.{last}"))
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let email = format!("{local}{n}@{domain}.example");
        let country = self.country();
        let work = self.rng.chance(0.9).then(|| self.phone(country, false));
        let mobile = self.rng.chance(0.7).then(|| self.phone(country, true));
        let home = self.rng.chance(0.2).then(|| self.phone(country, false));
        let rng = &mut self.rng;
        let red = rng.chance(0.01);
        let mut v: [String; COLUMNS.len()] = Default::default();
        v[0] = format!("P{n:07}");
        v[1] = if rng.chance(0.98) {
            last.to_owned()
        } else {
            String::new()
        };
        v[2] = if rng.chance(0.95) {
            first.to_owned()
        } else {
            String::new()
        };
        v[3] = if rng.chance(0.6) {
            format!("{first} {last}")
        } else {
            String::new()
        };
        v[4] = if rng.chance(0.9) {
            company.to_owned()
        } else {
            String::new()
        };
        v[5] = if rng.chance(0.85) {
            email.clone()
        } else {
            String::new()
        };
        v[6] = work.as_ref().map(|p| p.stored(rng)).unwrap_or_default();
        v[7] = mobile.as_ref().map(|p| p.stored(rng)).unwrap_or_default();
        v[8] = home.as_ref().map(|p| p.stored(rng)).unwrap_or_default();
        if rng.chance(0.5) {
            v[9] = self.switchboards[company_at].stored(rng);
        }
        v[10] = if rng.chance(0.1) {
            rng.pick(FIRST).to_owned()
        } else {
            String::new()
        };
        v[11] = if rng.chance(0.3) {
            format!("https://{domain}.example/~{local}")
        } else {
            String::new()
        };
        v[12] = if rng.chance(0.5) {
            format!(
                "{} rue de la Paix; {}",
                rng.below(200) + 1,
                rng.pick(CITIES)
            )
        } else {
            String::new()
        };
        v[13] = if red {
            rng.pick(RED_VALUES)
        } else {
            rng.pick(NOT_RED)
        }
        .to_owned();
        v[14] = if rng.chance(0.005) {
            "Key account".to_owned()
        } else {
            String::new()
        };
        v[15] = if rng.chance(0.2) {
            format!("https://photos.example/{n}.jpg")
        } else {
            String::new()
        };
        let mut rows = vec![Row {
            directory: 0,
            values: v,
        }];
        let phones: Vec<&Phone> = [&work, &mobile, &home].into_iter().flatten().collect();
        if !rows[0].values[5].is_empty() && rng.chance(self.config.duplicate_share) {
            // The same person in the CRM: same e-mail (other case), few fields.
            let mut d: [String; COLUMNS.len()] = Default::default();
            d[0] = format!("C{n}");
            d[1] = last.to_uppercase();
            d[5] = email.to_uppercase();
            d[7] = rows[0].values[7].clone();
            d[11] = format!("https://crm.example/contact/{n}");
            d[13] = rows[0].values[13].clone();
            rows.push(Row {
                directory: 1,
                values: d,
            });
        }
        let (mut presented, mut ambiguous) = (Vec::new(), Vec::new());
        for p in &phones {
            let (ok, unclear) = p.presented();
            presented.extend(ok.into_iter().map(|number| Presented { number }));
            ambiguous.extend(unclear.into_iter().map(|number| Presented { number }));
        }
        Person {
            presented,
            ambiguous,
            e164: phones.iter().map(|p| p.e164()).collect(),
            rows,
        }
    }
}

impl Iterator for People {
    type Item = Person;

    fn next(&mut self) -> Option<Person> {
        if self.next >= self.config.people {
            return None;
        }
        let n = self.next;
        self.next += 1;
        Some(self.person(n))
    }
}

/// The mapping of generated files (CSV columns = [`COLUMNS`]): every
/// column mapped, the `private` column as the red list of the personal
/// numbers, `vip` as the private field named `[VIP]`, the address as a link.
pub fn mapping() -> Result<crate::Mapping, crate::MappingError> {
    use crate::{ContactField as F, Target as T};
    crate::Mapping::new(
        [
            (T::Field(F::Id), "id"),
            (T::Field(F::LastName), "sn"),
            (T::Field(F::FirstName), "givenName"),
            (T::Field(F::DisplayName), "displayName"),
            (T::Field(F::Company), "company"),
            (T::Field(F::Email1), "mail"),
            (T::Field(F::Work), "telephoneNumber"),
            (T::Field(F::Mobile), "mobile"),
            (T::Field(F::Home), "homePhone"),
            (T::Field(F::Standard), "switchboard"),
            (T::Field(F::Assistant), "assistant"),
            (T::Field(F::Url), "url"),
            (T::Field(F::Address), "postalAddress | a"),
            (T::Field(F::PictureUrl), "photo"),
            (T::Field(F::Custom0), "vip"),
            (T::RedList(F::Work), "private"),
            (T::RedList(F::Mobile), "private"),
            (T::RedList(F::Home), "private"),
        ],
        [(F::Custom0, crate::VIP_FIELD_NAME.to_owned())],
    )
}

/// Where generated rows go (one sink per directory).
pub trait RecordSink {
    /// Writes one row.
    fn write(&mut self, row: &Row) -> io::Result<()>;
    /// Flushes.
    fn finish(&mut self) -> io::Result<()>;
}

/// Text encoding of a [`CsvSink`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-8.
    Utf8,
    /// Windows-1252 (unrepresentable characters become `?`).
    Windows1252,
}

/// CSV output: header line, then one line per row.
pub struct CsvSink<W: Write> {
    out: W,
    delimiter: u8,
    encoding: CsvEncoding,
    line: Vec<u8>,
}

impl<W: Write> CsvSink<W> {
    /// Writes the BOM (if any) and the header.
    pub fn new(mut out: W, delimiter: u8, encoding: CsvEncoding) -> io::Result<Self> {
        if encoding == CsvEncoding::Utf8Bom {
            out.write_all(crate::connector::encoding::UTF8_BOM)?;
        }
        let mut sink = Self {
            out,
            delimiter,
            encoding,
            line: Vec::with_capacity(512),
        };
        sink.write_fields(COLUMNS.iter().copied())?;
        Ok(sink)
    }

    fn write_fields<'a>(&mut self, fields: impl Iterator<Item = &'a str>) -> io::Result<()> {
        self.line.clear();
        for (i, f) in fields.enumerate() {
            if i > 0 {
                self.line.push(self.delimiter);
            }
            let quote = f
                .bytes()
                .any(|b| b == self.delimiter || b == b'"' || b == b'\n' || b == b'\r');
            let text = if quote {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_owned()
            };
            match self.encoding {
                CsvEncoding::Windows1252 => encode_windows_1252(&text, &mut self.line),
                _ => self.line.extend_from_slice(text.as_bytes()),
            }
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

impl<W: Write> RecordSink for CsvSink<W> {
    fn write(&mut self, row: &Row) -> io::Result<()> {
        self.write_fields(row.values.iter().map(String::as_str))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// LDIF output (RFC 2849) for slapd: one `inetOrgPerson` entry per row
/// under `base`; non-ASCII values base64-encoded as LDIF requires.
pub struct LdifSink<W: Write> {
    out: W,
    base: String,
}

impl<W: Write> LdifSink<W> {
    /// Entries will be `uid=<id>,<base>`.
    pub fn new(out: W, base: &str) -> Self {
        Self {
            out,
            base: base.to_owned(),
        }
    }

    fn attr(&mut self, name: &str, value: &str) -> io::Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        let safe = value.bytes().all(|b| (0x20..0x7F).contains(&b))
            && !value.starts_with([' ', ':', '<'])
            && !value.ends_with(' ');
        if safe {
            writeln!(self.out, "{name}: {value}")
        } else {
            writeln!(self.out, "{name}:: {}", base64(value.as_bytes()))
        }
    }
}

/// LDAP attributes of the generated columns (`None`: not written).
const LDIF_ATTRS: [Option<&str>; COLUMNS.len()] = [
    Some("uid"),
    Some("sn"),
    Some("givenName"),
    Some("displayName"),
    Some("o"),
    Some("mail"),
    Some("telephoneNumber"),
    Some("mobile"),
    Some("homePhone"),
    Some("facsimileTelephoneNumber"),
    Some("secretary"),
    Some("labeledURI"),
    Some("postalAddress"),
    Some("employeeType"),
    Some("title"),
    Some("photo"),
];

impl<W: Write> RecordSink for LdifSink<W> {
    fn write(&mut self, row: &Row) -> io::Result<()> {
        let dn = format!("uid={},{}", row.id(), self.base);
        self.attr("dn", &dn)?;
        writeln!(self.out, "objectClass: inetOrgPerson")?;
        let sn = if row.values[1].is_empty() {
            row.id()
        } else {
            &row.values[1]
        };
        let cn = if row.values[3].is_empty() {
            sn.to_owned()
        } else {
            row.values[3].clone()
        };
        self.attr("cn", &cn)?;
        for (i, attr) in LDIF_ATTRS.iter().enumerate() {
            match (*attr, i) {
                (Some("sn"), _) => self.attr("sn", sn)?,
                // photo is binary (jpegPhoto) in LDAP; the URL goes to labeledURI only.
                (Some("photo"), _) | (Some("secretary"), _) | (None, _) => {}
                (Some(name), _) => {
                    let value = row.values[i].clone();
                    self.attr(name, &value)?;
                }
            }
        }
        writeln!(self.out)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Writes the people of `config` to one sink per directory (`sinks[0]`
/// main, `sinks[1]` duplicates); returns the number of rows per directory.
pub fn write_all(config: Config, sinks: &mut [&mut dyn RecordSink]) -> io::Result<Vec<usize>> {
    let mut counts = vec![0; sinks.len()];
    for person in People::new(config) {
        for row in &person.rows {
            if let Some(sink) = sinks.get_mut(row.directory) {
                sink.write(row)?;
                counts[row.directory] += 1;
            }
        }
    }
    for sink in sinks.iter_mut() {
        sink.finish()?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_deterministic() {
        let config = Config {
            seed: 7,
            people: 300,
            duplicate_share: 0.2,
        };
        let a: Vec<Vec<Row>> = People::new(config).map(|p| p.rows).collect();
        let b: Vec<Vec<Row>> = People::new(config).map(|p| p.rows).collect();
        assert_eq!(a, b);
        let other: Vec<Vec<Row>> = People::new(Config { seed: 8, ..config })
            .map(|p| p.rows)
            .collect();
        assert_ne!(a, other);
        assert!(a.iter().any(|rows| rows.len() == 2), "some duplicates");
    }

    #[test]
    fn numbers_are_messy_and_suffixes_unique() {
        let config = Config {
            seed: 1,
            people: 5000,
            duplicate_share: 0.1,
        };
        let mut tails = HashSet::new();
        let mut red = 0;
        let mut forms = HashSet::new();
        for p in People::new(config) {
            for e in &p.e164 {
                assert!(tails.insert(e[e.len() - 9..].to_owned()), "{e}");
            }
            if RED_VALUES.contains(&p.rows[0].values[13].as_str()) {
                red += 1;
            }
            for v in &p.rows[0].values[6..9] {
                if v.contains("(0)") {
                    forms.insert("trunk");
                }
                if v.starts_with("00") {
                    forms.insert("00");
                }
                if v.contains('.') {
                    forms.insert("dots");
                }
                if v.contains('x') || v.contains("ext") || v.contains("poste") {
                    forms.insert("ext");
                }
            }
        }
        assert!((20..=80).contains(&red), "about 1 % red-listed: {red}");
        assert_eq!(forms.len(), 4, "{forms:?}");
    }

    #[test]
    fn csv_and_ldif_sinks() {
        let config = Config {
            seed: 3,
            people: 20,
            duplicate_share: 0.5,
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        {
            let mut main = CsvSink::new(&mut a, b';', CsvEncoding::Utf8Bom).unwrap();
            let mut ldif = LdifSink::new(&mut b, "ou=people,dc=example,dc=com");
            let counts = write_all(config, &mut [&mut main, &mut ldif]).unwrap();
            assert_eq!(counts[0], 20);
        }
        assert!(a.starts_with(b"\xEF\xBB\xBFid;sn;givenName"));
        assert_eq!(a.iter().filter(|b| **b == b'\n').count(), 21);
        let ldif = String::from_utf8(b).unwrap();
        assert!(ldif.contains("dn: uid=C"), "{ldif}");
        assert!(ldif.contains("objectClass: inetOrgPerson"));
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64("é".as_bytes()), "w6k=");
    }
}
