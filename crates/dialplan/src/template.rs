//! Values of extended rules: .NET substitutions (`$1`, `${name}`, `$$`, `$&`,
//! `` $` ``, `$'`, `$+`, `$_`), parsed once when the plan is compiled.

use crate::error::RuleError;

/// One piece of a compiled value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied as is.
    Literal(String),
    /// A capture group, by index in the compiled expression (0: whole match).
    Group(usize),
    /// The text before the match (`` $` ``), always empty here since rules match at the beginning.
    Before,
    /// The text after the match (`$'`).
    After,
    /// The whole input (`$_`).
    Input,
}

/// Parses `value` against an expression with `groups` capture groups (group
/// 0 not counted) named by `names` (index 1.. in `names[i - 1]`).
pub(crate) fn parse(
    value: &str,
    groups: usize,
    names: &[Option<String>],
) -> Result<Vec<Piece>, RuleError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        literal.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let (piece, used) = match after.as_bytes().first() {
            Some(b'$') => {
                literal.push('$');
                rest = &after[1..];
                continue;
            }
            Some(b'&') => (Piece::Group(0), 1),
            Some(b'`') => (Piece::Before, 1),
            Some(b'\'') => (Piece::After, 1),
            Some(b'+') => (Piece::Group(groups), 1),
            Some(b'_') => (Piece::Input, 1),
            Some(b'{') => {
                let Some(end) = after.find('}') else {
                    literal.push('$');
                    rest = after;
                    continue;
                };
                let name = &after[1..end];
                let index = if let Ok(n) = name.parse::<usize>() {
                    (n <= groups).then_some(n)
                } else {
                    names
                        .iter()
                        .position(|g| g.as_deref() == Some(name))
                        .map(|i| i + 1)
                };
                match index {
                    Some(i) => (Piece::Group(i), end + 1),
                    None => {
                        return Err(RuleError::MissingGroup {
                            reference: format!("${{{name}}}"),
                            groups,
                        });
                    }
                }
            }
            Some(b) if b.is_ascii_digit() => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                // .NET reads the longest run of digits that names a group.
                let found = (1..=digits).rev().find_map(|len| {
                    after[..len]
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n <= groups)
                        .map(|n| (n, len))
                });
                match found {
                    Some((n, len)) => (Piece::Group(n), len),
                    None => {
                        return Err(RuleError::MissingGroup {
                            reference: format!("${}", &after[..digits]),
                            groups,
                        });
                    }
                }
            }
            _ => {
                literal.push('$');
                rest = after;
                continue;
            }
        };
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(piece);
        rest = &after[used..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotnet_substitutions() {
        let names = [None, Some("area".to_owned())];
        assert_eq!(
            parse("000$2", 2, &names).unwrap(),
            vec![Piece::Literal("000".into()), Piece::Group(2)]
        );
        assert_eq!(
            parse("$$1${area}$&$'$_$+$`", 2, &names).unwrap(),
            vec![
                Piece::Literal("$1".into()),
                Piece::Group(2),
                Piece::Group(0),
                Piece::After,
                Piece::Input,
                Piece::Group(2),
                Piece::Before,
            ]
        );
        // $10 with one group is $1 followed by 0, as in .NET.
        assert_eq!(
            parse("$10", 1, &[None]).unwrap(),
            vec![Piece::Group(1), Piece::Literal("0".into())]
        );
        assert_eq!(
            parse("a$", 0, &[]).unwrap(),
            vec![Piece::Literal("a$".into())]
        );
    }

    #[test]
    fn missing_groups_are_refused() {
        assert_eq!(
            parse("$3", 2, &[None, None]),
            Err(RuleError::MissingGroup {
                reference: "$3".into(),
                groups: 2
            })
        );
        assert!(parse("${nope}", 0, &[]).is_err());
    }
}
