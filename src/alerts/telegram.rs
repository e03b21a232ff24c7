//! Telegram Bot API `sendMessage` body in HTML parse mode: every piece of text is
//! escaped by [`escape::html`], matched terms are `<b>`, the permalink an `<a>` only
//! for http(s) URLs. A message holds "1-4096 characters after entities parsing" (Bot
//! API, `sendMessage`), and Telegram measures text in UTF-16 code units (entity
//! offsets and lengths are documented in UTF-16 units; an emoji is 2). We count UTF-16
//! units of the HTML before parsing, tags and entities included, so the limit holds
//! with room to spare.

use serde_json::json;

use super::render::{Alert, Language, Limit, Unit, fit, link_label, marked, permalink};
use crate::escape;

/// Hits per message, so each keeps a readable share of the 4096 characters.
const MAX_HITS: usize = 5;
/// UTF-16 code units in a message.
const MESSAGE_LIMIT: usize = 4096;
/// A title or summary line.
const LINE_LIMIT: Limit = Limit::utf16(250);
/// Longer permalinks are left out rather than cut.
const URL_LIMIT: usize = 300;

/// The JSON body for one alert to `chat_id`.
pub fn render(alert: &Alert<'_>, language: Language, chat_id: &str) -> String {
    let alert = alert.capped(MAX_HITS);
    let header = format!(
        "<b>{}</b>",
        fit(&alert.title(language), LINE_LIMIT, escape::html)
    );
    let more = alert
        .more_line(language)
        .map(|more| format!("\n\n{}", fit(&more, LINE_LIMIT, escape::html)))
        .unwrap_or_default();
    let parts: Vec<(String, String)> = alert
        .hits
        .iter()
        .map(|hit| {
            let summary = format!(
                "\n\n<i>{}</i>\n",
                fit(&alert.hit_summary(hit, language), LINE_LIMIT, escape::html)
            );
            let link = permalink(&hit.post)
                .filter(|url| url.chars().count() <= URL_LIMIT)
                .map(|url| {
                    format!(
                        "\n<a href=\"{}\">{}</a>",
                        escape::html(url),
                        link_label(language)
                    )
                })
                .unwrap_or_default();
            (summary, link)
        })
        .collect();
    let units = |text: &str| Unit::Utf16.len(text);
    let fixed: usize = units(&header)
        + units(&more)
        + parts
            .iter()
            .map(|(a, b)| units(a) + units(b))
            .sum::<usize>();
    let text_limit = Limit::utf16(MESSAGE_LIMIT.saturating_sub(fixed) / alert.hits.len());
    let mut text = header;
    for (hit, (summary, link)) in alert.hits.iter().zip(parts) {
        text.push_str(&summary);
        text.push_str(&marked(
            &hit.post.text,
            &hit.spans(),
            text_limit,
            escape::html,
            ("<b>", "</b>"),
        ));
        text.push_str(&link);
    }
    text.push_str(&more);
    json!({
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::render::tests::{HOSTILE, hit, mention};
    use serde_json::Value;

    #[test]
    fn hostile_text_is_escaped_html() {
        let hits = [hit(1, HOSTILE)];
        let alert = mention(&hits, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::En, "-100")).unwrap();
        assert_eq!(body["chat_id"], "-100");
        assert_eq!(body["parse_mode"], "HTML");
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with("<b>Turkcell: 1 new mention</b>"), "{text}");
        assert!(text.contains("<b>Turkcell</b> &lt;!channel&gt; @everyone &lt;script&gt;alert(1)&lt;/script&gt; &lt;/b&gt;"), "{text}");
        assert!(text.contains("(Ayşe &lt;b&gt;)"));
        assert!(text.ends_with("<a href=\"https://x.example/p/1\">Open post</a>"));
        // Only our own tags remain once the escaped text is removed.
        let tags: Vec<&str> = text
            .match_indices('<')
            .map(|(i, _)| &text[i..i + 3])
            .collect();
        assert!(
            tags.iter()
                .all(|t| ["<b>", "</b", "<i>", "</i", "<a ", "</a"].contains(t)),
            "{tags:?}"
        );
    }

    #[test]
    fn the_message_limit_holds() {
        let long = format!("Turkcell {}", "<\"'&".repeat(3000));
        let hits: Vec<_> = (0..8).map(|id| hit(id, &long)).collect();
        let alert = mention(&hits, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::Tr, "1")).unwrap();
        let text = body["text"].as_str().unwrap();
        assert!(
            text.encode_utf16().count() <= MESSAGE_LIMIT,
            "{}",
            text.encode_utf16().count()
        );
        assert!(
            text.ends_with("…ve 3 bahsetme daha (hepsi: mentiond hits --delivery msg_1)"),
            "{text}"
        );
        assert_eq!(text.matches("<b>Turkcell</b>").count(), 5);
    }

    #[test]
    fn emoji_are_counted_in_utf16_units() {
        for n in [1, 5] {
            let hits: Vec<_> = (0..n)
                .map(|id| hit(id, &format!("Turkcell {}", "😀ş".repeat(10_000))))
                .collect();
            let body: Value =
                serde_json::from_str(&render(&mention(&hits, 0), Language::En, "1")).unwrap();
            let text = body["text"].as_str().unwrap();
            let units = text.encode_utf16().count();
            assert!(
                units <= MESSAGE_LIMIT && units > MESSAGE_LIMIT - 20 * n as usize,
                "{units}"
            );
            assert_eq!(
                text.matches("😀…").count() + text.matches("ş…").count(),
                n as usize
            );
        }
    }
}
