//! Tokeniser for the label selector string syntax (`a=b,c in (x,y),!d`).
//!
//! Like upstream's lexer it works on bytes: identifiers run until whitespace or
//! one of the operator characters `= ! ( ) , > <`; runs of operator characters
//! are split greedily into the longest known operator.

/// One lexical token of a label selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// A token and the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scanned {
    pub token: Token,
    pub literal: String,
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits the whole selector into tokens, ending with `EndOfString` (or at the first `Error`).
pub(super) fn scan(s: &str) -> Vec<Scanned> {
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while pos < bytes.len() && is_whitespace(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            out.push(Scanned {
                token: Token::EndOfString,
                literal: String::new(),
            });
            return out;
        }
        let start = pos;
        let item = if is_special(bytes[pos]) {
            // Longest run of operator characters that still forms a known operator.
            let mut best: Option<(Token, usize)> = None;
            let mut end = pos;
            while end < bytes.len() && is_special(bytes[end]) {
                end += 1;
                if let Some(t) = keyword(&s[start..end]) {
                    best = Some((t, end));
                } else if best.is_some() {
                    break;
                }
            }
            match best {
                Some((token, stop)) => {
                    pos = stop;
                    Scanned {
                        token,
                        literal: s[start..stop].to_string(),
                    }
                }
                None => {
                    pos = end;
                    Scanned {
                        token: Token::Error,
                        literal: format!("error expected: keyword found '{}'", &s[start..end]),
                    }
                }
            }
        } else {
            while pos < bytes.len() && !is_special(bytes[pos]) && !is_whitespace(bytes[pos]) {
                pos += 1;
            }
            let lit = &s[start..pos];
            Scanned {
                token: keyword(lit).unwrap_or(Token::Identifier),
                literal: lit.to_string(),
            }
        };
        let is_error = item.token == Token::Error;
        out.push(item);
        if is_error {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<Token> {
        scan(s).into_iter().map(|i| i.token).collect()
    }

    #[test]
    fn tokenises_operators_and_identifiers() {
        use Token::*;
        let cases: Vec<(&str, Vec<Token>)> = vec![
            ("", vec![EndOfString]),
            ("  \t", vec![EndOfString]),
            ("a=b", vec![Identifier, Equals, Identifier, EndOfString]),
            (
                "a==b",
                vec![Identifier, DoubleEquals, Identifier, EndOfString],
            ),
            ("a!=b", vec![Identifier, NotEquals, Identifier, EndOfString]),
            ("!a", vec![DoesNotExist, Identifier, EndOfString]),
            (
                "a in (x,y)",
                vec![
                    Identifier,
                    In,
                    OpenPar,
                    Identifier,
                    Comma,
                    Identifier,
                    ClosedPar,
                    EndOfString,
                ],
            ),
            (
                "a notin(x)",
                vec![
                    Identifier,
                    NotIn,
                    OpenPar,
                    Identifier,
                    ClosedPar,
                    EndOfString,
                ],
            ),
            (
                "a>1",
                vec![Identifier, GreaterThan, Identifier, EndOfString],
            ),
            ("a<1", vec![Identifier, LessThan, Identifier, EndOfString]),
            // "=(" is no operator: "=" is taken and "(" scanned next.
            ("a=(", vec![Identifier, Equals, OpenPar, EndOfString]),
            ("a=!", vec![Identifier, Equals, DoesNotExist, EndOfString]),
        ];
        for (input, want) in cases {
            assert_eq!(tokens(input), want, "{input:?}");
        }
    }

    #[test]
    fn keeps_literals() {
        let s = scan("app.kubernetes.io/name in (x)");
        assert_eq!(s[0].literal, "app.kubernetes.io/name");
        assert_eq!(s[1].literal, "in");
    }
}
