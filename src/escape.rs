//! Escaping of attacker-controlled text (post text, author names) for each sink.
//! One function per format; every sink calls the one for its format. Every format
//! first neutralises what could reorder, hide or overwrite text around it (see
//! [`is_unsafe`]): chat and e-mail formats drop it, `terminal` and `log` make it
//! visible.

use std::borrow::Cow;

/// Text safe to print on a terminal: control characters (ANSI escapes, carriage
/// returns that overwrite lines) and bidi controls become visible `\u{…}` sequences;
/// newlines and tabs stay.
pub fn terminal(text: &str) -> Cow<'_, str> {
    visible(text, |c| is_unsafe(c) && c != '\n' && c != '\t')
}

/// Text for one log field: like [`terminal`], and newlines and tabs too become
/// `\u{…}`, so a post can neither colour the log nor forge a line of its own.
pub fn log(text: &str) -> Cow<'_, str> {
    visible(text, is_unsafe)
}

/// Plain text (Slack `plain_text`, Discord footers, e-mail text bodies and subjects):
/// nothing but the neutralising every format does.
pub fn plain(text: &str) -> Cow<'_, str> {
    replace_chars(text, |_| None)
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

/// One CSV cell (RFC 4180): unsafe characters other than `\n` and `\t` are dropped; a
/// cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'` so
/// no spreadsheet reads it as a formula (OWASP CSV injection); a cell holding `,`,
/// `"` or a line break is quoted, its quotes doubled.
pub fn csv(text: &str) -> Cow<'_, str> {
    let kept = replace_chars(text, |_| None);
    let formula = kept.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || kept.contains([',', '"', '\n', '\r']);
    if !quoted {
        return kept;
    }
    let mut out = String::with_capacity(kept.len() + 4);
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&kept.replace('"', "\"\""));
    out.push('"');
    Cow::Owned(out)
}

/// Whether `c` may reorder, hide or overwrite the text around it: C0 and C1 control
/// characters (ESC starts terminal escape sequences, CR overwrites a line), DEL, the
/// bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069; a U+202E in
/// an author name flips the rest of the line in Teams and Telegram), the bidi marks
/// (U+200E, U+200F, U+061C) and the Unicode line and paragraph separators. `\n` and
/// `\t` count too; formats that allow them keep them.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Chat and e-mail formats: unsafe characters other than `\n` and `\t` are dropped (a
/// line break stays a line break), then `replacement` escapes the format's own syntax.
fn replace_chars(text: &str, replacement: impl Fn(char) -> Option<&'static str>) -> Cow<'_, str> {
    let dropped = |c: char| is_unsafe(c) && c != '\n' && c != '\t';
    let replace = |c: char| if dropped(c) { Some("") } else { replacement(c) };
    if !text.chars().any(|c| replace(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match replace(c) {
            Some(escaped) => out.push_str(escaped),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with every character `shown` selects written as a visible `\u{…}`.
fn visible(text: &str, shown: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&shown) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if shown(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
        assert_eq!(
            terminal("a\u{2067}b\u{200F}\u{85}"),
            "a\\u{2067}b\\u{200f}\\u{85}"
        );
        assert_eq!(log("a\nb\tc\u{1b}"), "a\\u{a}b\\u{9}c\\u{1b}");
    }

    /// Every bidi control and control character, as the attack text of the sinks.
    const UNSAFE: &str = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\u{200E}\u{200F}\u{61C}\u{2028}\u{2029}\u{0}\u{7}\u{8}\r\u{b}\u{c}\u{1b}[2J\u{7f}\u{85}\u{9b}31m";

    #[test]
    fn every_chat_and_mail_format_drops_bidi_and_control_characters() {
        let input = format!("Ayşe{UNSAFE}\n\tx");
        for format in [slack, html, markdown, plain] {
            let out = format(&input);
            assert!(
                !out.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t'),
                "{out:?}"
            );
            assert!(
                out.starts_with("Ayşe") && out.ends_with("31m\n\tx"),
                "{out:?}"
            );
        }
        assert!(matches!(plain("Turkcell çekmiyor"), Cow::Borrowed(_)));
        for c in ('\u{0}'..='\u{10FFFF}').filter(|&c| is_unsafe(c)) {
            assert!(terminal(&c.to_string()).starts_with("\\u{") || c == '\n' || c == '\t');
            assert!(log(&c.to_string()).starts_with("\\u{"));
        }
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
    fn csv_neutralises_formulas_and_quotes_per_rfc_4180() {
        assert_eq!(csv("Turkcell"), "Turkcell");
        assert_eq!(
            csv("=HYPERLINK(\"http://evil\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        for start in ["+1", "-1", "@SUM(A1)", "\tx"] {
            let out = csv(start);
            assert!(out.starts_with("\"'"), "{out}");
        }
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("line\nnext"), "\"line\nnext\"");
        assert_eq!(csv("\u{202E}=1+2"), "\"'=1+2\"");
        assert_eq!(csv("3-1"), "3-1");
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
