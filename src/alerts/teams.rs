//! Microsoft Teams body for a Workflows "post to a channel when a webhook request is
//! received" URL: a message with one Adaptive Card (version 1.4), built with a JSON
//! serializer, never a string template. Post text is escaped by [`escape::markdown`]
//! because `TextBlock`s render a Markdown subset; permalinks are `Action.OpenUrl`.

use serde_json::{Value, json};

use super::render::{Alert, Language, fit, link_label, marked, permalink};
use crate::escape;

/// Hits per card; Teams refuses cards much above 28 KB.
const MAX_HITS: usize = 10;
/// Characters of post text per hit.
const TEXT_LIMIT: usize = 1500;
/// Characters in a title or summary line.
const LINE_LIMIT: usize = 400;

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
        if let Some(url) = permalink(&hit.post) {
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
        assert_eq!(blocks.last().unwrap()["text"], "…ve 2 bahsetme daha");
    }
}
