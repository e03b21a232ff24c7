//! Escaping of attacker-controlled text (post text, author names) for each sink.
//! One function per format; every sink calls the one for its format.

use std::borrow::Cow;

/// Text safe to print on a terminal: control characters (ANSI escapes, carriage
/// returns that overwrite lines, bidi overrides) become visible `\u{…}` sequences.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_neutralises_escapes_and_bidi() {
        assert_eq!(terminal("Turkcell çekmiyor"), "Turkcell çekmiyor");
        assert_eq!(terminal("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal("x\ry"), "x\\u{d}y");
        assert_eq!(terminal("ab\u{202E}cd"), "ab\\u{202e}cd");
        assert_eq!(terminal("line\nnext"), "line\nnext");
    }
}
