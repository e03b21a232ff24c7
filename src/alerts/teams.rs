//! Microsoft Teams body for a Workflows "post to a channel when a webhook request is
//! received" URL: a message with one Adaptive Card (version 1.4), built with a JSON
//! serializer, never a string template. Post text is escaped by [`escape::markdown`]
//! because `TextBlock`s render a Markdown subset; permalinks are `Action.OpenUrl`.

use serde_json::{Value, json};

use super::render::{Alert, Language, Limit, fit, link_label, marked, permalink};
use crate::escape;

/// Hits per card. Teams limits the whole message to about 28 KB of payload ("The
/// message size limit is 28 KB", Microsoft's incoming-webhook docs), so the texts are
/// measured in the bytes they take in the JSON body, not in characters: 10 hits of
/// 1500 + 400 bytes, the title, the "more" line and the card's JSON stay under it.
const MAX_HITS: usize = 10;
/// Post text per hit, in JSON bytes.
const TEXT_LIMIT: Limit = Limit::json_bytes(1500);
/// A title or summary line, in JSON bytes.
const LINE_LIMIT: Limit = Limit::json_bytes(400);
/// Longer permalinks are left out rather than cut, so the payload limit holds.
const URL_LIMIT: usize = 300;

/// The JSON body for one alert.
pub fn render(alert: &Alert<'_>, language: Language) -> String {
    let alert = alert.capped(MAX_HITS);
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": fit(&alert.title(language), LINE_LIMIT, escape::markdown),
        "weight": "Bolder",
        "size": "Medium",
        "wrap": true,
    })];
    for hit in alert.hits {
        body.push(json!({
            "type": "TextBlock",
            "text": fit(&alert.hit_summary(hit, language), LINE_LIMIT, escape::markdown),
            "isSubtle": true,
            "wrap": true,
            "separator": true,
            "spacing": "Medium",
        }));
        body.push(json!({
            "type": "TextBlock",
            "text": marked(&hit.post.text, &hit.spans(), TEXT_LIMIT, escape::markdown, ("**", "**")),
            "wrap": true,
        }));
        if let Some(url) = permalink(&hit.post).filter(|url| url.len() <= URL_LIMIT) {
            body.push(json!({
                "type": "ActionSet",
                "actions": [{"type": "Action.OpenUrl", "title": link_label(language), "url": url}],
            }));
        }
    }
    if let Some(more) = alert.more_line(language) {
        body.push(json!({"type": "TextBlock", "text": fit(&more, LINE_LIMIT, escape::markdown), "wrap": true}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": Value::Null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "msteams": {"width": "Full"},
            },
        }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::render::tests::{HOSTILE, hit, mention};

    /// The payload Teams accepts.
    const PAYLOAD_LIMIT: usize = 28 * 1024;

    #[test]
    fn the_card_is_well_formed_and_hostile_text_inert() {
        let text = format!("{HOSTILE} \" \\ }} \u{0} \u{202E}");
        let hits = [hit(1, &text)];
        let alert = mention(&hits, 2);
        let body: Value = serde_json::from_str(&render(&alert, Language::Tr)).unwrap();
        let card = &body["attachments"][0]["content"];
        assert_eq!(body["type"], "message");
        assert_eq!(
            body["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        let blocks = card["body"].as_array().unwrap();
        assert_eq!(blocks[0]["text"], "Turkcell: 3 yeni bahsetme");
        let post = blocks[2]["text"].as_str().unwrap();
        assert!(post.starts_with("**Turkcell** \\<!channel\\>"), "{post}");
        assert!(post.contains("\\[x\\]\\(http://evil\\)"));
        assert_eq!(blocks[3]["actions"][0]["url"], "https://x.example/p/1");
        assert_eq!(blocks[3]["actions"][0]["title"], "Gönderiyi aç");
        let more = blocks.last().unwrap()["text"].as_str().unwrap();
        assert!(
            more.starts_with(r"…ve 2 bahsetme daha \(hepsi: mentiond hits"),
            "{more}"
        );
    }

    #[test]
    fn ten_hits_of_emoji_and_escapes_stay_under_the_payload_limit() {
        let long_name = format!("{}{}", "😀".repeat(300), "\\\"".repeat(300));
        for text in [
            "😀".repeat(10_000),
            format!("Turkcell {}", "\\\"*😀ş".repeat(3000)),
        ] {
            let mut hits: Vec<_> = (0..12).map(|id| hit(id, &text)).collect();
            for hit in &mut hits {
                if let Some(author) = hit.post.author.as_mut() {
                    author.name = Some(long_name.clone());
                }
            }
            let body = render(&mention(&hits, 0), Language::En);
            assert!(body.len() <= PAYLOAD_LIMIT, "{}", body.len());
            let parsed: Value = serde_json::from_str(&body).unwrap();
            let post = parsed["attachments"][0]["content"]["body"][2]["text"]
                .as_str()
                .unwrap();
            assert!(post.ends_with('…'), "{post}");
        }
    }
}
