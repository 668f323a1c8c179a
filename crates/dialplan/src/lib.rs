//! TWP dialing plan engine (guide chapter 5): the pure logic that turns a
//! number into the number sent to the PBX, and any number (incoming call,
//! directory entry) into the canonical form used by the reverse directory.
//! No I/O.
//!
//! ```
//! use twp_dialplan::{DialPlan, GlobalParameters, NumberKind, render_test_report};
//!
//! // Global parameters of the guide's example (00, 33, external prefix 0),
//! // the standard rules, and the extended rule of guide 5.3.
//! let plan = DialPlan::new(GlobalParameters::default())
//!     .with_rule(50, "3611", "03611")
//!     .with_rule(
//!         30,
//!         r"[(\+|[-InternationalPrefix-])?([^\(]+)\(0\)]",
//!         "[-ExternalPrefix-][-InternationalPrefix-]$2",
//!     )
//!     .compile()?;
//!
//! assert_eq!(plan.dial("+33155171889")?, "00155171889");
//! assert_eq!(plan.dial("+3912334477")?, "0003912334477");
//! assert_eq!(plan.dial("3611")?, "03611");
//! assert_eq!(plan.dial("+42(0)141906666")?, "00042141906666");
//!
//! let canonical = plan.incoming("0033155171889");
//! assert_eq!(canonical.number, "+33155171889");
//! assert_eq!(canonical.kind, NumberKind::External);
//! assert_eq!(plan.canonical("+33 (0)1 55 17 18 89").number, "+33155171889");
//!
//! // Explanations, and the text of `twp dialplan test --explain`.
//! let explained = plan.dial_explained("3611");
//! assert_eq!(explained.steps.len(), 2);
//! let text = render_test_report(&plan, &["3611"], true);
//! assert!(text.contains(r#"rule 9 (priority 50) "3611" -> "03611" applied: 03611"#));
//!
//! // The plan document (JSON) round-trips and is validated on import.
//! let again = DialPlan::from_json(&plan.plan().to_json())?;
//! assert_eq!(again.plan(), plan.plan());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Vocabulary and model
//!
//! A [`DialPlan`] holds the *global parameters* ([`GlobalParameters`]) and the
//! *specific rules* ([`SpecificRule`]: priority, pattern, value), standard
//! rules included ([`standard_rules`]). [`DialPlan::compile`] validates it
//! into a [`CompiledPlan`], which transforms numbers:
//!
//! * [`CompiledPlan::dial`] — dialing transformation (guide 5.2);
//! * [`CompiledPlan::incoming`] — incoming number: Remove and Add, then canonical form;
//! * [`CompiledPlan::canonical`] — directory number: canonical form;
//! * [`CompiledPlan::lookup_keys`] — exact key and *internal reverse length* suffix;
//! * the `_explained` variants and [`CompiledPlan::test_number`] — the same
//!   with the ordered [`Step`]s and the rule that fired;
//! * [`render_test_report`] — the text of the CLI tester.
//!
//! # Dialing (guide 5.2)
//!
//! 1. White space and `.`, `-`, `/` are removed (parentheses are kept: the
//!    standard rule `+33(0` and the guide's regular expression refer to them).
//! 2. The specific rules are tried from the lowest priority number; the first
//!    that applies is played, the others are ignored. A plain pattern applies
//!    when the number starts with it; an extended rule when its expression
//!    matches at the beginning of the number, the match being replaced by
//!    the value and the rest kept.
//! 3. Standard rule: non-numerical characters are deleted, except a first
//!    `+`, `#` or `*` (in a facility code, first `#` or `*`, the later `#`
//!    and `*` are kept too).
//! 4. External prefix: no rule applied → added when the number is longer
//!    than the internal length; a rule applied to a number starting with `+`
//!    → added unless the rule's value starts with `[-ExternalPrefix-]` (it then
//!    supplies it, as in the guide's extended rule and standard rules);
//!    a rule applied to another number → not added.
//!
//! # Canonical form
//!
//! Separators and letters are dropped (a trunk prefix in parentheses after
//! the country code, `+33 (0)1…`, too). A number starting with `#` or `*` is a
//! facility code and is kept. Incoming numbers longer than the internal
//! length and not starting with `+` lose the Remove characters at their
//! beginning (when present), then get Add in front. Then: `+` numbers are
//! E.164 already (`+330…` → `+33…`); numbers no longer than the internal
//! length are internal; others are read,
//! in this order, as international prefix + local country prefix (`0033…`),
//! external + international prefix (`000…`), external + national prefix
//! (`00…`), international prefix (`00…`), national prefix (`0…`). The first
//! form that fits gives the E.164 number; if none does, the number is
//! *unresolved* and the reverse look-up compares its last digits (internal
//! reverse length, [`LookupKeys::suffix`]).
//!
//! The order settles the ambiguities of the guide's parameters: with external
//! prefix `0`, national prefix `0` and international prefix `00`, `00155171889`
//! is read as external + national (`+33155171889`, what dialing
//! `+33155171889` produces), so a foreign number presented as `0039…` without
//! external prefix is not recognised as such; a PBX that presents numbers
//! that way needs Remove/Add (or its numbers begin with `000`). When Remove
//! removed something from an incoming number, the forms with the external
//! prefix are not tried: Remove is there to strip the PBX's external prefix,
//! so `0039…` after Remove `0` is read as international. A French
//! number whose national significant number starts with `33` (`+3333…`)
//! dials as `0033…`, which the guide's particular case reads as the
//! country's own international form: it does not round-trip.
//!
//! # Extended rules: .NET regular expressions
//!
//! A pattern written between square brackets is a .NET regular expression,
//! run by `fancy-regex` (a backtracking engine with look-around) after
//! translation. `[-Name-]` placeholders of the global parameters are replaced
//! (escaped) in the expression and in the value; the value may use `$1`,
//! `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+` and `$_`. Spelling differences
//! are rewritten: `(?'name'…)`, `\k'name'`, `\uFFFF`, `\0` octal, `\cX`,
//! `(?(name)…)` conditionals, `(?#…)` comments, a `{` that is not a
//! quantifier, and `[`, `&`, `~` inside a character class (literal in .NET).
//!
//! Refused when the rule is saved ([`RuleError::UnsupportedConstruct`] names
//! the construct and its position):
//!
//! * balancing groups `(?<a-b>…)`, `(?<-b>…)` — .NET only;
//! * character class subtraction `[a-z-[aeiou]]` — no equivalent;
//! * inline option `n` (ExplicitCapture) and any option but `i`, `m`, `s`, `x`;
//! * explicitly numbered groups `(?<2>…)`, and named and unnamed capture
//!   groups in the same expression — .NET numbers named groups after the
//!   unnamed ones, `fancy-regex` in order of appearance, so `$1` would differ;
//! * constructs of other dialects that .NET rejects or reads otherwise:
//!   possessive/nested quantifiers `a++`, `(*VERB)`, `(?P…)`, `(?~…)`,
//!   `\K`, `\g`, `\h`, `\R` and other letter escapes .NET does not have;
//! * a value referring to a group the expression does not have (`$3` with
//!   two groups: .NET would copy `$3` literally, almost always a mistake).
//!
//! The options RightToLeft, ECMAScript and CultureInvariant cannot be
//! written inline, so there is nothing to refuse. With option `x`,
//! comments are honoured from the option group on to the end of the
//! expression (scoped `x` groups are not tracked).
//!
//! # Bounds
//!
//! Patterns are at most [`MAX_PATTERN_LEN`] bytes, values [`MAX_VALUE_LEN`],
//! numbers [`MAX_NUMBER_LEN`], plans [`MAX_RULES`] rules. Each regular
//! expression has a backtrack limit ([`BACKTRACK_LIMIT`]) and bounded
//! automata: a runaway expression is stopped and reported as
//! [`TransformError::RegexLimit`] (and a `ruleStopped` step), never a hang.
//! Expressions without back-references or look-around run on automata in
//! linear time, so `[(a+)+$]` does not even backtrack.

mod canonical;
mod clean;
mod dial;
mod document;
mod dotnet;
mod error;
mod explain;
mod params;
mod placeholder;
mod plan;
mod report;
mod rule;
mod standard;
mod template;

pub use canonical::{Canonical, CanonicalResult, LookupKeys, NumberKind};
pub use dial::DialResult;
pub use document::{PLAN_DOCUMENT_VERSION, PlanDocument};
pub use error::{PlanError, RuleError, TransformError};
pub use explain::{Action, Form, RuleRef, Step};
pub use params::GlobalParameters;
pub use plan::{CompiledPlan, DialPlan, MAX_NUMBER_LEN, MAX_RULES};
pub use report::{NumberTest, render_test_report};
pub use rule::{BACKTRACK_LIMIT, MAX_PATTERN_LEN, MAX_VALUE_LEN, SpecificRule};
pub use standard::standard_rules;
