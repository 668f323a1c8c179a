//! The standard rules created with every plan (guide 5.1).

use crate::rule::SpecificRule;

/// The standard rules, written with placeholders so that they follow the
/// global parameters. With the guide's French values they read:
///
/// | priority | pattern | value | guide |
/// |---|---|---|---|
/// | 10 | `+33(0` | `00` | "+33(0" is transformed into 00 |
/// | 11 | `+330` | `00` | "+330" is transformed into 00 |
/// | 12 | `+33` | `00` | particular case: `+33155171889` → `00155171889` |
/// | 13 | `0033(0` | `00` | particular case, with the international prefix |
/// | 14 | `00330` | `00` | particular case, with the international prefix |
/// | 15 | `0033` | `00` | particular case: `0033…` → `00…` |
/// | 20 | `#` | `#` | kept, used for facilities |
/// | 21 | `*` | `*` | kept, used for facilities |
/// | 1000 | `+` | `00` | the guide's example: "+" replaced by "00" |
///
/// Values that start with `[-ExternalPrefix-]` already hold the external
/// prefix, so it is not added again to a number that started with `+`
/// (guide 5.2, "if necessary"); the `+` rule's value does not, so
/// `+3912334477` becomes `0` `00` `3912334477`. The first standard rule of
/// the guide, deleting non-numerical characters, is not a rule of the list:
/// it is a step of every dialing transformation.
pub fn standard_rules() -> Vec<SpecificRule> {
    const LOCAL: &str = "[-ExternalPrefix-][-NationalPrefix-]";
    vec![
        SpecificRule::new(10, "+[-LocalCountryPrefix-]([-NationalPrefix-]", LOCAL),
        SpecificRule::new(11, "+[-LocalCountryPrefix-][-NationalPrefix-]", LOCAL),
        SpecificRule::new(12, "+[-LocalCountryPrefix-]", LOCAL),
        SpecificRule::new(
            13,
            "[-InternationalPrefix-][-LocalCountryPrefix-]([-NationalPrefix-]",
            LOCAL,
        ),
        SpecificRule::new(
            14,
            "[-InternationalPrefix-][-LocalCountryPrefix-][-NationalPrefix-]",
            LOCAL,
        ),
        SpecificRule::new(15, "[-InternationalPrefix-][-LocalCountryPrefix-]", LOCAL),
        SpecificRule::new(20, "#", "#"),
        SpecificRule::new(21, "*", "*"),
        SpecificRule::new(1000, "+", "[-InternationalPrefix-]"),
    ]
}
