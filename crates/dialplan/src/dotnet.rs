//! Translation of a .NET regular expression into the syntax of `fancy-regex`,
//! refusing the constructs whose .NET meaning cannot be honoured.
//!
//! The translator walks the expression once. It passes through what both
//! engines read the same way, rewrites what only differs in spelling
//! (`(?'name'…)`, `\k'name'`, `\uFFFF`, `\0`, `\cX`, `(?(name)…)`, a `{` that
//! is no quantifier, `[` `&` `~` inside a character class, `(?#…)` comments)
//! and refuses the rest with [`RuleError::UnsupportedConstruct`].

use crate::error::RuleError;

/// Result of a translation.
#[derive(Debug)]
pub(crate) struct Translated {
    /// Expression in `fancy-regex` syntax.
    pub(crate) pattern: String,
}

/// Translates `src` (.NET syntax, placeholders already replaced).
pub(crate) fn translate(src: &str) -> Result<Translated, RuleError> {
    let names = declared_names(src);
    let mut t = Translator {
        src,
        pos: 0,
        out: String::with_capacity(src.len() + 8),
        names,
        named_groups: 0,
        numbered_groups: 0,
        quantified: Quantified::No,
        extended: false,
    };
    t.run()?;
    if t.named_groups > 0 && t.numbered_groups > 0 {
        return Err(refuse(
            "named and numbered capture groups together",
            0,
            ".NET numbers named groups after the unnamed ones, which this engine does not; \
             name all the groups or none",
        ));
    }
    Ok(Translated { pattern: t.out })
}

fn refuse(construct: impl Into<String>, position: usize, reason: &'static str) -> RuleError {
    RuleError::UnsupportedConstruct {
        construct: construct.into(),
        position,
        reason,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quantified {
    /// The last token is not a quantifier.
    No,
    /// The last token is a greedy quantifier (a `?` may make it lazy).
    Greedy,
    /// The last token is a lazy quantifier.
    Lazy,
}

struct Translator<'a> {
    src: &'a str,
    pos: usize,
    out: String,
    names: Vec<String>,
    named_groups: usize,
    numbered_groups: usize,
    quantified: Quantified,
    /// `x` (ignore pattern whitespace) seen in an inline option group.
    extended: bool,
}

/// Names of the named groups of `src`, to tell `(?(name)…)` from `(?(expression)…)`.
fn declared_names(src: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (open, close) in [("(?<", '>'), ("(?'", '\'')] {
        for (i, _) in src.match_indices(open) {
            let rest = &src[i + open.len()..];
            if let Some(end) = rest.find(close) {
                let name = &rest[..end];
                if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}

impl Translator<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn run(&mut self) -> Result<(), RuleError> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '\\' => {
                    self.bump();
                    self.escape(start, false)?;
                    self.quantified = Quantified::No;
                }
                '[' => {
                    self.bump();
                    self.class(start)?;
                    self.quantified = Quantified::No;
                }
                '(' => {
                    self.bump();
                    self.group(start)?;
                    self.quantified = Quantified::No;
                }
                '*' | '+' | '?' => {
                    self.bump();
                    self.quantifier(start, c)?;
                }
                '{' => {
                    if let Some(len) = counted_repetition(self.rest()) {
                        let q = &self.src[self.pos..self.pos + len];
                        self.check_quantifier_position(start, q)?;
                        self.out.push_str(q);
                        self.pos += len;
                        self.quantified = Quantified::Greedy;
                    } else {
                        self.bump();
                        self.out.push_str("\\{");
                        self.quantified = Quantified::No;
                    }
                }
                '}' => {
                    self.bump();
                    self.out.push_str("\\}");
                    self.quantified = Quantified::No;
                }
                '#' if self.extended => {
                    // Comment up to the end of the line, copied as is.
                    while let Some(c) = self.bump() {
                        self.out.push(c);
                        if c == '\n' {
                            break;
                        }
                    }
                }
                c if self.extended && c.is_whitespace() => {
                    self.bump();
                    self.out.push(c);
                }
                _ => {
                    self.bump();
                    self.out.push(c);
                    self.quantified = Quantified::No;
                }
            }
        }
        Ok(())
    }

    fn check_quantifier_position(&self, start: usize, q: &str) -> Result<(), RuleError> {
        if self.quantified != Quantified::No {
            return Err(refuse(
                q,
                start,
                "a quantifier after a quantifier (nested or possessive quantifier) is not .NET syntax",
            ));
        }
        Ok(())
    }

    fn quantifier(&mut self, start: usize, c: char) -> Result<(), RuleError> {
        match (self.quantified, c) {
            (Quantified::Greedy, '?') => {
                self.out.push('?');
                self.quantified = Quantified::Lazy;
            }
            (Quantified::No, _) => {
                self.out.push(c);
                self.quantified = Quantified::Greedy;
            }
            _ => {
                return Err(refuse(
                    c.to_string(),
                    start,
                    "a quantifier after a quantifier (nested or possessive quantifier) is not .NET syntax",
                ));
            }
        }
        Ok(())
    }

    /// After a backslash, outside (`in_class == false`) or inside a class.
    fn escape(&mut self, start: usize, in_class: bool) -> Result<(), RuleError> {
        let Some(c) = self.bump() else {
            return Err(RuleError::InvalidRegex {
                message: "the expression ends with a backslash".into(),
            });
        };
        match c {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' | 't' | 'n' | 'r' | 'f' | 'v' | 'e' | 'a' => {
                self.out.push('\\');
                self.out.push(c);
            }
            'b' if in_class => self.out.push_str("\\x08"),
            'b' | 'B' | 'A' | 'z' | 'Z' | 'G' if !in_class => {
                self.out.push('\\');
                self.out.push(c);
            }
            'p' | 'P' => {
                let Some(end) = self
                    .rest()
                    .find('}')
                    .filter(|_| self.rest().starts_with('{'))
                else {
                    return Err(refuse(
                        format!("\\{c}"),
                        start,
                        "a Unicode category must be written \\p{Name}",
                    ));
                };
                self.out.push('\\');
                self.out.push(c);
                self.out.push_str(&self.src[self.pos..self.pos + end + 1]);
                self.pos += end + 1;
            }
            'x' => self.hex(start, 2)?,
            'u' => self.hex(start, 4)?,
            'c' => {
                let Some(l) = self.bump().filter(char::is_ascii_alphabetic) else {
                    return Err(refuse("\\c", start, "\\c must be followed by a letter"));
                };
                let code = (l.to_ascii_uppercase() as u32) & 0x1f;
                self.out.push_str(&format!("\\x{{{code:02X}}}"));
            }
            '0' => {
                // Octal escape: \0 followed by up to two octal digits.
                let mut code = 0u32;
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            self.bump();
                        }
                        None => break,
                    }
                }
                self.out.push_str(&format!("\\x{{{code:02X}}}"));
            }
            '1'..='9' if !in_class => {
                self.out.push('\\');
                self.out.push(c);
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    self.bump();
                    self.out.push(d);
                }
            }
            'k' if !in_class => {
                let close = match self.bump() {
                    Some('<') => '>',
                    Some('\'') => '\'',
                    _ => {
                        return Err(refuse(
                            "\\k",
                            start,
                            "a named back reference must be written \\k<name> or \\k'name'",
                        ));
                    }
                };
                let Some(end) = self.rest().find(close) else {
                    return Err(refuse("\\k", start, "unterminated named back reference"));
                };
                let name = &self.src[self.pos..self.pos + end];
                self.out.push_str("\\k<");
                self.out.push_str(name);
                self.out.push('>');
                self.pos += end + 1;
            }
            c if c.is_alphanumeric() || c == '_' => {
                return Err(refuse(
                    format!("\\{c}"),
                    start,
                    "this escape is not a .NET escape (or has another meaning in .NET)",
                ));
            }
            c => {
                self.out.push('\\');
                self.out.push(c);
            }
        }
        Ok(())
    }

    fn hex(&mut self, start: usize, digits: usize) -> Result<(), RuleError> {
        let src = self.src;
        let hex = src[self.pos..]
            .get(..digits)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(refuse(
                &self.src[start..self.pos],
                start,
                "expected exactly the hexadecimal digits .NET requires",
            ));
        };
        self.out.push_str("\\x{");
        self.out.push_str(hex);
        self.out.push('}');
        self.pos += digits;
        Ok(())
    }

    /// After `[`.
    fn class(&mut self, start: usize) -> Result<(), RuleError> {
        self.out.push('[');
        if self.peek() == Some('^') {
            self.bump();
            self.out.push('^');
        }
        if self.peek() == Some(']') {
            self.bump();
            self.out.push_str("\\]");
        }
        let mut previous = None;
        loop {
            let at = self.pos;
            let Some(c) = self.bump() else {
                return Err(RuleError::InvalidRegex {
                    message: format!("unterminated character class at position {start}"),
                });
            };
            match c {
                ']' => {
                    self.out.push(']');
                    return Ok(());
                }
                '\\' => self.escape(at, true)?,
                '-' if self.peek() == Some('[') => {
                    return Err(refuse(
                        "-[",
                        at,
                        "character class subtraction ([a-z-[aeiou]]) has no equivalent here",
                    ));
                }
                '-' if previous == Some('-') => self.out.push_str("\\-"),
                '[' | '&' | '~' => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                c => self.out.push(c),
            }
            previous = Some(c);
        }
    }

    /// After `(`.
    fn group(&mut self, start: usize) -> Result<(), RuleError> {
        match (self.peek(), self.peek_at(1)) {
            (Some('?'), next) => {
                self.bump();
                self.special_group(start, next)
            }
            (Some('*'), _) => Err(refuse(
                "(*",
                start,
                "backtracking control verbs are not .NET syntax",
            )),
            _ => {
                self.numbered_groups += 1;
                self.out.push('(');
                Ok(())
            }
        }
    }

    /// After `(?`; `next` is the character after `?`.
    fn special_group(&mut self, start: usize, next: Option<char>) -> Result<(), RuleError> {
        match next {
            Some(':' | '=' | '!' | '>') => {
                self.bump();
                self.out.push_str("(?");
                self.out.push(next.unwrap_or(':'));
                Ok(())
            }
            Some('<') if matches!(self.peek_at(1), Some('=' | '!')) => {
                self.bump();
                self.out.push_str("(?<");
                Ok(())
            }
            Some('<') => self.named_group(start, '>'),
            Some('\'') => self.named_group(start, '\''),
            Some('#') => {
                let Some(end) = self.rest().find(')') else {
                    return Err(RuleError::InvalidRegex {
                        message: format!("unterminated comment at position {start}"),
                    });
                };
                self.pos += end + 1;
                Ok(())
            }
            Some('(') => self.conditional(start),
            Some(c) if "imnsx-".contains(c) => self.options(start),
            _ => {
                let shown: String = self.src[start..].chars().take(3).collect();
                Err(refuse(
                    shown,
                    start,
                    "this group construct is not .NET syntax",
                ))
            }
        }
    }

    /// At `<` or `'` of `(?<name>` / `(?'name'`.
    fn named_group(&mut self, start: usize, close: char) -> Result<(), RuleError> {
        self.bump();
        let Some(end) = self.rest().find(close) else {
            return Err(RuleError::InvalidRegex {
                message: format!("unterminated group name at position {start}"),
            });
        };
        let name = self.src[self.pos..self.pos + end].to_owned();
        let shown = &self.src[start..self.pos + end + 1];
        if name.contains('-') {
            return Err(refuse(
                shown,
                start,
                "balancing groups are a .NET-only construct",
            ));
        }
        if name.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse(
                shown,
                start,
                "explicitly numbered groups are not supported",
            ));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(refuse(
                shown,
                start,
                "a group name is made of letters, digits and _",
            ));
        }
        self.pos += end + 1;
        self.named_groups += 1;
        self.out.push_str("(?<");
        self.out.push_str(&name);
        self.out.push('>');
        Ok(())
    }

    /// At the inner `(` of `(?(`.
    fn conditional(&mut self, start: usize) -> Result<(), RuleError> {
        self.bump();
        let rest = self.rest();
        if let Some(end) = rest.find(')') {
            let inner = &rest[..end];
            let is_number = !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit());
            if is_number || self.names.iter().any(|n| n == inner) {
                let spelled = if is_number {
                    inner.to_owned()
                } else {
                    format!("<{inner}>")
                };
                self.out.push_str("(?(");
                self.out.push_str(&spelled);
                self.out.push(')');
                self.pos += end + 1;
                return Ok(());
            }
        }
        // (?(expression)yes|no): the expression is a zero-width assertion in
        // both engines; it is translated like the rest of the pattern.
        let _ = start;
        self.out.push_str("(?(");
        Ok(())
    }

    /// At the first option letter of `(?imnsx-imnsx)` or `(?imnsx-imnsx:`.
    fn options(&mut self, start: usize) -> Result<(), RuleError> {
        let mut on = true;
        let mut spelled = String::from("(?");
        loop {
            let at = self.pos;
            match self.bump() {
                Some(c @ ('i' | 'm' | 's')) => spelled.push(c),
                Some('x') => {
                    spelled.push('x');
                    self.extended = on;
                }
                Some('-') => {
                    spelled.push('-');
                    on = false;
                }
                Some('n') => {
                    return Err(refuse(
                        "(?n",
                        at,
                        "the ExplicitCapture option (n) is not supported; use (?:…) groups",
                    ));
                }
                Some(c @ (')' | ':')) => {
                    spelled.push(c);
                    break;
                }
                _ => {
                    return Err(refuse(
                        &self.src[start..self.pos],
                        start,
                        "inline options are limited to i, m, s and x",
                    ));
                }
            }
        }
        self.out.push_str(&spelled);
        Ok(())
    }
}

/// Length of a .NET counted repetition (`{n}`, `{n,}`, `{n,m}`, with an
/// optional lazy `?` left to the caller) at the start of `s`, if any.
fn counted_repetition(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    if b.get(i) == Some(&b',') {
        i += 1;
        digits(&mut i);
    }
    (b.get(i) == Some(&b'}')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> String {
        translate(src).unwrap().pattern
    }

    fn refused(src: &str) -> String {
        match translate(src) {
            Err(RuleError::UnsupportedConstruct { construct, .. }) => construct,
            other => panic!("{src}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn passes_common_syntax() {
        assert_eq!(ok(r"(\+|00)?([^\(]+)\(0\)"), r"(\+|00)?([^\(]+)\(0\)");
        assert_eq!(ok(r"\d{2,4}?x"), r"\d{2,4}?x");
        assert_eq!(
            ok(r"(?=1)(?!2)(?<=3)(?<!4)(?>5)(?:6)"),
            r"(?=1)(?!2)(?<=3)(?<!4)(?>5)(?:6)"
        );
        assert_eq!(ok(r"(?i)a(?s-m:b)"), r"(?i)a(?s-m:b)");
    }

    #[test]
    fn rewrites_spelling_differences() {
        assert_eq!(ok(r"(?'n'1)\k'n'"), r"(?<n>1)\k<n>");
        assert_eq!(ok(r"\u0041\x41\0\cA"), r"\x{0041}\x{41}\x{00}\x{01}");
        assert_eq!(ok(r"a{,3}{x}"), r"a\{,3\}\{x\}");
        assert_eq!(ok(r"[[&~]"), r"[\[\&\~]");
        assert_eq!(ok(r"1(?#comment)2"), "12");
        assert_eq!(ok(r"(?<a>1)?(?(a)2|3)"), r"(?<a>1)?(?(<a>)2|3)");
        assert_eq!(ok(r"(1)?(?(1)2|3)"), r"(1)?(?(1)2|3)");
        assert_eq!(ok(r"[\b]"), r"[\x08]");
    }

    #[test]
    fn refuses_dotnet_only_or_foreign_constructs() {
        assert_eq!(refused(r"(?<a-b>x)"), "(?<a-b>");
        assert_eq!(refused(r"(?'-b'x)"), "(?'-b'");
        assert_eq!(refused(r"[a-z-[aeiou]]"), "-[");
        assert_eq!(refused(r"(?n)(a)"), "(?n");
        assert_eq!(refused(r"(?u)a"), "(?u");
        assert_eq!(refused(r"a++"), "+");
        assert_eq!(refused(r"a{2}+"), "+");
        assert_eq!(refused(r"\K"), "\\K");
        assert_eq!(refused(r"(?P<a>1)"), "(?P");
        assert_eq!(refused(r"(*FAIL)"), "(*");
        assert_eq!(refused(r"(?<1>a)"), "(?<1>");
        assert_eq!(
            refused(r"(?<a>1)(2)"),
            "named and numbered capture groups together"
        );
    }
}
