//! Parameter types of the *Applications parameters* console and their
//! parsers: a value is checked on write and stored in canonical form.

use std::fmt;

use thiserror::Error;

/// The type of a parameter (guide 9, 10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// "Yes or No" settings.
    YesNo,
    /// A whole number within bounds (inclusive).
    Integer { min: i64, max: i64 },
    /// Free text on one line.
    Text,
    /// A time of day, `HH:MM` (guide 8.x, 10.2.1).
    Time,
    /// Items separated by `|` (AuthMethods, guide 6.1); with `allowed`, each
    /// item must be one of them.
    List {
        allowed: Option<&'static [&'static str]>,
    },
    /// One of a fixed set of words (AlerterMode: XML or URL).
    Enumeration(&'static [&'static str]),
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::YesNo => f.write_str("Yes/No"),
            Self::Integer { min, max } => write!(f, "integer {min}..{max}"),
            Self::Text => f.write_str("text"),
            Self::Time => f.write_str("time HH:MM"),
            Self::List { allowed: None } => f.write_str("list separated by |"),
            Self::List { allowed: Some(a) } => {
                write!(f, "list separated by | of {}", a.join(", "))
            }
            Self::Enumeration(words) => write!(f, "one of {}", words.join(", ")),
        }
    }
}

/// A validated value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    YesNo(bool),
    Integer(i64),
    Text(String),
    /// Minutes after midnight.
    Time(u16),
    List(Vec<String>),
    Enumeration(&'static str),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::YesNo(true) => f.write_str("Yes"),
            Self::YesNo(false) => f.write_str("No"),
            Self::Integer(n) => n.fmt(f),
            Self::Text(t) => f.write_str(t),
            Self::Time(m) => write!(f, "{:02}:{:02}", m / 60, m % 60),
            Self::List(items) => f.write_str(&items.join("|")),
            Self::Enumeration(w) => f.write_str(w),
        }
    }
}

/// Why a value does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{key}: {problem}; expected {expected}")]
pub struct ValueError {
    pub key: String,
    pub expected: String,
    pub problem: String,
}

/// Parses `input` as a value of type `ty`; errors name `key` and the type.
pub fn parse_value(key: &str, ty: ParamType, input: &str) -> Result<Value, ValueError> {
    parse(ty, input).map_err(|problem| ValueError {
        key: key.to_owned(),
        expected: ty.to_string(),
        problem,
    })
}

fn parse(ty: ParamType, input: &str) -> Result<Value, String> {
    if let Some(c) = input.chars().find(|c| c.is_control()) {
        return Err(format!(
            "control character U+{:04X} not allowed",
            u32::from(c)
        ));
    }
    let trimmed = input.trim();
    match ty {
        ParamType::YesNo => parse_yes_no(trimmed).map(Value::YesNo),
        ParamType::Integer { min, max } => {
            let n: i64 = trimmed
                .parse()
                .map_err(|_| format!("{trimmed:?} is not a whole number"))?;
            if n < min || n > max {
                return Err(format!("{n} is out of range"));
            }
            Ok(Value::Integer(n))
        }
        ParamType::Text => Ok(Value::Text(trimmed.to_owned())),
        ParamType::Time => parse_time(trimmed).map(Value::Time),
        ParamType::List { allowed } => {
            let mut items = Vec::new();
            for item in trimmed.split('|') {
                let item = item.trim();
                if item.is_empty() {
                    return Err("empty item".to_owned());
                }
                let item = match allowed {
                    None => item.to_owned(),
                    Some(words) => (*one_of(words, item)?).to_owned(),
                };
                items.push(item);
            }
            Ok(Value::List(items))
        }
        ParamType::Enumeration(words) => one_of(words, trimmed).map(Value::Enumeration),
    }
}

fn one_of(words: &'static [&'static str], item: &str) -> Result<&'static str, String> {
    words
        .iter()
        .copied()
        .find(|w| w.eq_ignore_ascii_case(item))
        .ok_or_else(|| format!("{item:?} is not allowed"))
}

/// `Yes`/`No`, also `True`/`False` (the guide writes "Yes (True)"), any case.
fn parse_yes_no(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("{s:?} is neither Yes nor No"))
    }
}

/// Strict `HH:MM`, two digits each, 00:00 to 23:59.
fn parse_time(s: &str) -> Result<u16, String> {
    let bad = || format!("{s:?} is not a time HH:MM");
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return Err(bad());
    }
    let digit = |i: usize| -> Result<u16, String> {
        let c = b[i];
        if c.is_ascii_digit() {
            Ok(u16::from(c - b'0'))
        } else {
            Err(bad())
        }
    };
    let h = digit(0)? * 10 + digit(1)?;
    let m = digit(3)? * 10 + digit(4)?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}
