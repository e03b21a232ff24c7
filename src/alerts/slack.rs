//! Slack incoming-webhook body: Block Kit with a `text` fallback. Post text goes only
//! into `mrkdwn` escaped by [`escape::slack`] (so `<!channel>` stays inert) or into
//! `plain_text`; `link_names` and `parse` are never set. Limits: 50 blocks, 3000
//! characters per text object, 150 in a header. Slack's Block Kit reference gives
//! these limits in "characters" without saying how it counts them; we count UTF-16
//! code units, which are never fewer than code points, so the limits hold either way
//! (an emoji is 2 units: 10,000 of them are cut at 1,499, not 3,000).

use serde_json::{Value, json};

use super::render::{Alert, Language, Limit, fit, marked, permalink};
use crate::escape;

/// Hits per message: a header, two blocks per hit and the "more" line stay under 50.
const MAX_HITS: usize = 20;
/// A section or context text object.
const TEXT_LIMIT: Limit = Limit::utf16(3000);
/// A header.
const HEADER_LIMIT: Limit = Limit::utf16(150);

/// The JSON body for one alert.
pub fn render(alert: &Alert<'_>, language: Language) -> String {
    let alert = alert.capped(MAX_HITS);
    let title = alert.title(language);
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": fit(&title, HEADER_LIMIT, escape::plain)},
    })];
    for hit in alert.hits {
        blocks.push(json!({
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": marked(&hit.post.text, &hit.spans(), TEXT_LIMIT, escape::slack, ("*", "*")),
            },
        }));
        let mut context = alert.hit_summary(hit, language);
        if let Some(url) = permalink(&hit.post) {
            context.push_str(" · ");
            context.push_str(url);
        }
        blocks.push(context_block(&fit(&context, TEXT_LIMIT, escape::slack)));
    }
    if let Some(more) = alert.more_line(language) {
        blocks.push(context_block(&fit(&more, TEXT_LIMIT, escape::slack)));
    }
    json!({
        "text": fit(&title, TEXT_LIMIT, escape::slack),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
    .to_string()
}

fn context_block(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::render::tests::{HOSTILE, hit, mention};

    #[test]
    fn hostile_text_is_escaped_and_terms_are_bold() {
        let hits = [hit(1, HOSTILE)];
        let alert = mention(&hits, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::En)).unwrap();
        let section = body["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(
            section.starts_with("*Turkcell* &lt;!channel&gt; @everyone &lt;script&gt;"),
            "{section}"
        );
        assert!(section.contains("&amp;") && section.contains("&lt;@123&gt;"));
        assert!(!section.contains("<!") && !section.contains("<@"));
        let context = body["blocks"][2]["elements"][0]["text"].as_str().unwrap();
        assert!(context.contains("@ayse (Ayşe &lt;b&gt;) · 1200 followers · 2 earlier hits · posted 5 min ago · hit #1 · https://x.example/p/1"), "{context}");
        assert_eq!(body["blocks"][0]["text"]["type"], "plain_text");
        assert!(body.get("link_names").is_none() && body.get("parse").is_none());
    }

    #[test]
    fn limits_hold_for_huge_posts_and_bursts() {
        let long = format!("Turkcell {}", "<&>".repeat(5000));
        let hits: Vec<_> = (0..30).map(|id| hit(id, &long)).collect();
        let alert = mention(&hits, 470);
        let body: Value = serde_json::from_str(&render(&alert, Language::Tr)).unwrap();
        let blocks = body["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50, "{}", blocks.len());
        assert_eq!(
            body["blocks"][0]["text"]["text"],
            "Turkcell: 500 yeni bahsetme"
        );
        let section = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(section.encode_utf16().count() <= 3000 && section.ends_with('…'));
        assert!(!section.ends_with("&…") && !section.ends_with("&a…"));
        let last = blocks.last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap();
        assert!(
            last.starts_with("…ve 480 bahsetme daha (hepsi: mentiond hits --delivery"),
            "{last}"
        );
    }

    #[test]
    fn emoji_are_counted_in_utf16_units() {
        for text in [
            "😀".repeat(10_000),
            format!("Turkcell {}", "a😀<ğ".repeat(3000)),
        ] {
            let hits = [hit(1, &text)];
            let body: Value =
                serde_json::from_str(&render(&mention(&hits, 0), Language::En)).unwrap();
            let section = body["blocks"][1]["text"]["text"].as_str().unwrap();
            let units = section.encode_utf16().count();
            assert!(units <= 3000 && units > 2990, "{units}");
            assert!(section.ends_with('…'));
        }
    }
}
