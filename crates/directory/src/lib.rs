//! TWP directory engine (guide chapter 8): connectors, synchronisation,
//! reverse look-up and search, as a library — no HTTP, no SQL.
//!
//! # Design
//!
//! * [`Directory`] holds the settings of the guide's Connector and Fields
//!   tabs: type ([`DirectoryType`]: Sample/Draft = disabled, TWP = public,
//!   Private), priority (lowest number wins), merge flag, and a validated
//!   [`Mapping`] from source fields to [`ContactField`]s with the field
//!   options of 8.1 ([`parse_mapping`]: `a h i l m u p::prefix{0}suffix::regex`,
//!   applied in written order; regexes use the linear-time `regex` crate with
//!   a size limit), the red list per phone field ([`Target::RedList`]) and a
//!   private field named `[VIP]` (8.2.3).
//! * [`Connector`] is the one interface of every source: `test_connection`,
//!   then `open(fields)` gives a [`RecordStream`] filling one reusable
//!   [`SourceRecord`] at a time (the source is never held in memory); an
//!   unreadable record is skipped with its [`Location`] (line, DN, row).
//!   [`CsvConnector`] is the first implementation (delimiter and encoding
//!   detected or set: UTF-8 with or without BOM, Windows-1252, Latin-1).
//! * [`DirectoryEngine`] (one per domain: its dialing plan makes numbers
//!   canonical) keeps, per directory, an immutable [`Generation`]: contacts
//!   packed in memory, the reverse index (exact canonical key and
//!   internal-reverse-length suffix, numbers packed in `u64`), id and e-mail
//!   indexes, and one folded search text. The reverse, id and e-mail
//!   indexes are read-only open-addressing tables (`table`) built once per
//!   generation: entries are collected, sorted by home slot and laid down
//!   front to back, instead of a million random `HashMap` inserts.
//! * Derived keys (`derived`): [`Generation::derived`] gives the bytes a
//!   store keeps beside the contacts (the dialing plan's exact and suffix
//!   keys, the folded search text, a plan fingerprint, a digest of the
//!   contacts and a checksum); [`Persistence::load_derived`] hands them back
//!   and [`Generation::restore`] rebuilds a generation from them without the
//!   dialing plan, folding or sorting. Bytes made with another plan, for
//!   other contacts, or damaged are refused ([`DerivedError`]) and the
//!   generation is built from the contacts as before.
//! * [`DirectoryEngine::synchronise`] streams the source, maps records,
//!   builds a complete new generation, commits it through [`Persistence`]
//!   (the store will implement it; [`MemoryPersistence`] for tests), then
//!   swaps it in: queries see the old generation until then, and a failed or
//!   cancelled run leaves it. One run per directory; live
//!   [`ProgressSnapshot`]s; a [`SyncReport`] (created, updated, deleted,
//!   unchanged, ignored with location and reason).
//! * [`DirectoryEngine::lookup`] and [`DirectoryEngine::search`] /
//!   [`DirectoryEngine::search_advanced`] take the [`Allowed`] directory set
//!   (authorizations come later) and return [`Profile`]s: merged across
//!   directories with the merge flag by e-mail (8.2.2), fields in priority
//!   order, red-listed numbers [`Number::Hidden`], VIP text.
//! * [`generate`] makes seeded synthetic directories (CSV, LDIF) and the
//!   numbers as a PBX presents them, for coverage checks and benchmarks
//!   (`examples/generate.rs`, `examples/bench_directory.rs`).
//!
//! # Choices
//!
//! * A number shared by several contacts of one directory (a switchboard)
//!   names the contact for whom it is a personal line (work, mobile, home,
//!   assistant, then standard), then the first in source order.
//! * Extensions after a number (`x12`, `ext. 12`, `poste 12`, `#12`) are not
//!   part of the indexed number ([`strip_extension`]).
//! * Merging uses the three e-mail fields of the found contact, case- and
//!   accent-insensitively, and only the allowed directories: a user never
//!   sees fields of a directory they may not read. It is not transitive.
//! * Red-listed numbers still name the caller (that is the point of the red
//!   list) but are not searchable as numbers and are returned hidden.
//! * Search paging is keyset (see [`search`]); results are ordered by
//!   directory priority, then by last and first name within a directory.
//!   A prefix query whose first word has 3 characters or more reads a
//!   word-prefix index; shorter prefixes and *contains* scan the folded text.
//! * Building a generation uses both cores: the reverse index is built
//!   while the source is read; then the search text (in source order) beside
//!   the sort, renumbered after; then the number, id and e-mail tables beside
//!   the text layout and its word-prefix index.
//! * On a number shared with equal rank, "first" is first in source order
//!   for a synchronisation and a restore from derived keys; a rebuild from
//!   the stored contacts alone (no derived keys) takes the first in sorted
//!   order, as before.
//! * Options are applied when a record is synchronised, so the stored and
//!   indexed values are the transformed ones (a `p::9{0}` work number is
//!   indexed with its 9).
//!
//! # Not done here
//!
//! * Connectors other than CSV (LDAP, SQL, ODBC, Excel, Exchange/Graph,
//!   CardDAV): the trait is ready for them.
//! * Scheduling (manual / daily / high-frequency, 8.2.1), persistence in the
//!   store, the HTTP API and authorizations: the store implements
//!   [`Persistence`], the API passes [`Allowed`].
//! * A change of the domain's dialing plan does not re-index existing
//!   generations: the server rebuilds the engine (restart-time cost).
//! * XLSX and SQL output of the generator (CSV and LDIF are written; a
//!   sink is one `RecordSink` implementation).
//! * Speed targets on the project's shared 2-core VM (see BENCHMARKS.md):
//!   the restart takes 1.3–1.6 s of process CPU for 543 k contacts from
//!   derived keys (was ≈ 3 s) but 2.6–3.3 s wall at a load of 8; CSV sync
//!   stays below 200 k rows/s (90–125 k rows/s of process CPU: CSV decoding,
//!   mapping and two allocations per contact, the dialing plan per number,
//!   sorting and folding, encoding the derived keys). Next steps: one
//!   allocation per contact, folding names once for both the sort key and
//!   the search text, a canonical-number cache keyed by the raw string, and
//!   persisting the word-prefix postings.
//! * The id and e-mail indexes are not in the derived keys (a restart folds
//!   the e-mails again, ≈ 0.2 s for 500 k contacts).

pub mod connector;
mod contact;
mod derived;
mod directory;
mod engine;
mod fold;
pub mod generate;
mod hash;
mod index;
mod lookup;
mod model;
mod numbers;
mod options;
mod persist;
mod profile;
pub mod search;
mod sync;
mod table;
pub mod vcard;

pub use connector::csv::{CsvConnector, CsvOptions, CsvSource};
pub use connector::encoding::Encoding;
pub use connector::{
    ConnectionTest, Connector, ConnectorError, Location, ReadOutcome, RecordStream, SourceRecord,
};
pub use contact::Contact;
pub use derived::DerivedError;
pub use directory::{Directory, IgnoreReason, Mapping, MappingError, Target};
pub use engine::{Allowed, DirectoryEngine, EngineError};
pub use fold::fold;
pub use index::Generation;
pub use lookup::{CallerMatch, MatchKind};
pub use model::{ContactField, DirectoryId, DirectoryType, VIP_FIELD_NAME, is_red_list_value};
pub use numbers::strip_extension;
pub use options::{
    FieldMapping, FieldOptions, MAX_REGEX_LEN, OptionError, OptionErrorKind, Transform,
    address_link, parse_mapping,
};
pub use persist::{ChangeSet, MemoryPersistence, PersistError, Persistence};
pub use profile::{Member, Number, Profile};
pub use search::{AdvancedQuery, Condition, Cursor, SearchPage, SimpleQuery, TextMatch};
pub use sync::{
    IgnoredRecord, MAX_REPORTED_IGNORED, ProgressSnapshot, SyncError, SyncPhase, SyncProgress,
    SyncReport,
};
pub use vcard::{VCard, VCardError, parse_vcards};
