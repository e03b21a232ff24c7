//! HTML fragments (feed summaries, Mastodon content) turned into plain text for
//! matching: tags dropped, block elements become line breaks, entities decoded,
//! `<script>`/`<style>` bodies skipped.

/// Converts an HTML fragment to plain text.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        push_decoded(&mut text, &rest[..open]);
        let tag_and_after = &rest[open..];
        let Some(close) = tag_and_after.find('>') else {
            // An unclosed `<` is text, not a tag.
            push_decoded(&mut text, tag_and_after);
            rest = "";
            break;
        };
        let tag = tag_and_after[1..close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        rest = &tag_and_after[close + 1..];
        if (name == "script" || name == "style") && !tag.starts_with('/') {
            let end_tag = format!("</{name}");
            rest = match rest.to_ascii_lowercase().find(&end_tag) {
                Some(end) => rest[end..].split_once('>').map_or("", |(_, after)| after),
                None => "",
            };
            continue;
        }
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "blockquote"
        ) && !text.ends_with('\n')
            && !text.is_empty()
        {
            text.push('\n');
        }
    }
    push_decoded(&mut text, rest);
    collapse_whitespace(&text)
}

/// Decodes HTML character references in text that has no markup (X escapes `&`, `<`
/// and `>` in otherwise plain post text).
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_decoded(&mut out, text);
    out
}

fn push_decoded(out: &mut String, mut text: &str) {
    while let Some(amp) = text.find('&') {
        out.push_str(&text[..amp]);
        let after = &text[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                text = &after[semi + 1..];
            }
            None => {
                out.push('&');
                text = after;
            }
        }
    }
    out.push_str(text);
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        _ => return None,
    })
}

fn collapse_whitespace(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn strips_tags_decodes_entities_and_keeps_breaks() {
        let cases = [
            (
                "<p>Turkcell&#39;e <b>ulaşamıyorum</b></p><p>yardım!</p>",
                "Turkcell'e ulaşamıyorum\nyardım!",
            ),
            (
                "a &amp; b &lt;c&gt; &#x15F; &unknown; & x",
                "a & b <c> ş &unknown; & x",
            ),
            ("x<script>alert('<p>')</script>y<style>p{}</style>z", "xyz"),
            ("line<br/>next<br>last", "line\nnext\nlast"),
            ("1 < 2 and no tag", "1 < 2 and no tag"),
            ("  spaced \t out  ", "spaced out"),
        ];
        for (html, text) in cases {
            assert_eq!(html_to_text(html), text, "{html}");
        }
    }
}
