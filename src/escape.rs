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

/// Text for Slack `mrkdwn`: `&`, `<` and `>` become entities, the only escaping
/// Slack defines, so `<!channel>` or `<https://evil|bank>` in a post stays inert text.
pub fn slack(text: &str) -> Cow<'_, str> {
    replace_chars(text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    })
}

/// Text for HTML element content and quoted attribute values (Telegram's HTML parse
/// mode, e-mail): `& < > " '` become entities, so no tag or attribute comes from input.
pub fn html(text: &str) -> Cow<'_, str> {
    replace_chars(text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// Text for Markdown renderers (Discord, Teams Adaptive Cards): the characters that
/// start emphasis, links, code, headings, quotes, spoilers or `<@…>` mentions are
/// backslash-escaped, so a post cannot add links or formatting.
pub fn markdown(text: &str) -> Cow<'_, str> {
    replace_chars(text, |c| match c {
        '\\' => Some("\\\\"),
        '*' => Some("\\*"),
        '_' => Some("\\_"),
        '~' => Some("\\~"),
        '`' => Some("\\`"),
        '|' => Some("\\|"),
        '[' => Some("\\["),
        ']' => Some("\\]"),
        '(' => Some("\\("),
        ')' => Some("\\)"),
        '<' => Some("\\<"),
        '>' => Some("\\>"),
        '#' => Some("\\#"),
        _ => None,
    })
}

fn replace_chars(text: &str, replacement: impl Fn(char) -> Option<&'static str>) -> Cow<'_, str> {
    if !text.chars().any(|c| replacement(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match replacement(c) {
            Some(escaped) => out.push_str(escaped),
            None => out.push(c),
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

    #[test]
    fn slack_escapes_only_its_three_control_characters() {
        assert_eq!(
            slack("<!channel> & <@U1> <https://evil|bank> *ok*"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|bank&gt; *ok*"
        );
        assert!(matches!(slack("Turkcell çekmiyor"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>alert(1)</script></b> "x" 'y' &"#),
            "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt; &quot;x&quot; &#39;y&#39; &amp;"
        );
    }

    #[test]
    fn markdown_escapes_links_emphasis_and_mentions() {
        assert_eq!(
            markdown(r"[click](http://evil) **b** <@123> `c` a\b"),
            r"\[click\]\(http://evil\) \*\*b\*\* \<@123\> \`c\` a\\b"
        );
        assert_eq!(markdown("@everyone 3.5 - ok!"), "@everyone 3.5 - ok!");
    }
}
