//! Discord webhook body: one embed per hit, post text escaped by
//! [`escape::markdown`], and always `allowed_mentions: {"parse": []}` so `@everyone`,
//! roles and users in a post never ping anyone. Limits: content 2000 characters, 10
//! embeds, title 256, description 4096, footer 2048, all embeds together 6000.
//! Discord counts code points, not UTF-16 units: its API is Python 3 and measures
//! `len(str)` (Discord staff in discord/discord-api-docs#1315: "`\U0010FFFF \uffff`
//! would be considered 3 characters"), so an emoji is one character here.

use serde_json::{Value, json};

use super::render::{Alert, Language, Limit, fit, marked, permalink};
use crate::escape;

/// Embeds per message.
const MAX_HITS: usize = 10;
/// Characters in `content`.
const CONTENT_LIMIT: Limit = Limit::chars(2000);
/// Characters in a description.
const DESCRIPTION_LIMIT: usize = 4096;
/// Characters of all embeds together, with some room to spare.
const EMBEDS_BUDGET: usize = 5800;
/// Characters we allow in an embed title.
const TITLE_LIMIT: Limit = Limit::chars(100);
/// Characters we allow in a footer.
const FOOTER_LIMIT: Limit = Limit::chars(300);

/// The JSON body for one alert.
pub fn render(alert: &Alert<'_>, language: Language) -> String {
    let alert = alert.capped(MAX_HITS);
    let mut content = alert.title(language);
    if let Some(more) = alert.more_line(language) {
        content.push('\n');
        content.push_str(&more);
    }
    let description_limit = Limit::chars(
        (EMBEDS_BUDGET / alert.hits.len())
            .saturating_sub(TITLE_LIMIT.max + FOOTER_LIMIT.max)
            .min(DESCRIPTION_LIMIT),
    );
    let embeds: Vec<Value> = alert
        .hits
        .iter()
        .map(|hit| {
            let mut embed = json!({
                "title": fit(&format!("{} · {}", hit.brand, hit.post.source), TITLE_LIMIT, escape::markdown),
                "description": marked(&hit.post.text, &hit.spans(), description_limit, escape::markdown, ("**", "**")),
                "footer": {"text": fit(&alert.hit_summary(hit, language), FOOTER_LIMIT, escape::plain)},
            });
            if let Some(url) = permalink(&hit.post) {
                embed["url"] = json!(url);
            }
            embed
        })
        .collect();
    json!({
        "content": fit(&content, CONTENT_LIMIT, escape::markdown),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::render::tests::{HOSTILE, hit, mention};

    fn embed_chars(embed: &Value) -> usize {
        ["title", "description"]
            .iter()
            .map(|k| embed[k].as_str().unwrap().chars().count())
            .sum::<usize>()
            + embed["footer"]["text"].as_str().unwrap().chars().count()
    }

    #[test]
    fn mentions_are_never_parsed_and_markdown_is_inert() {
        let hits = [hit(1, HOSTILE)];
        let alert = mention(&hits, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::En)).unwrap();
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert!(
            description.starts_with("**Turkcell** \\<!channel\\> @everyone"),
            "{description}"
        );
        assert!(
            description.contains("\\[x\\]\\(http://evil\\)") && description.contains("\\*bold\\*")
        );
        assert_eq!(body["embeds"][0]["url"], "https://x.example/p/1");
        assert_eq!(body["content"], "Turkcell: 1 new mention");
    }

    #[test]
    fn limits_hold_for_huge_posts_and_bursts() {
        let long = format!("Turkcell {}", "ş*".repeat(6000));
        let hits: Vec<_> = (0..12).map(|id| hit(id, &long)).collect();
        let alert = mention(&hits, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::En)).unwrap();
        let embeds = body["embeds"].as_array().unwrap();
        assert_eq!(embeds.len(), 10);
        assert!(embeds.iter().map(embed_chars).sum::<usize>() <= 6000);
        assert!(embeds[0]["description"].as_str().unwrap().ends_with('…'));
        let content = body["content"].as_str().unwrap();
        assert!(
            content.contains(r"…and 2 more \(all of them: mentiond hits"),
            "{content}"
        );

        let one = [hit(1, &long)];
        let alert = mention(&one, 0);
        let body: Value = serde_json::from_str(&render(&alert, Language::En)).unwrap();
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert!(
            description.chars().count() <= DESCRIPTION_LIMIT && description.chars().count() > 4000
        );
    }

    #[test]
    fn ten_thousand_emoji_fill_the_description_in_code_points() {
        let hits = [hit(1, &"😀".repeat(10_000))];
        let body: Value = serde_json::from_str(&render(&mention(&hits, 0), Language::En)).unwrap();
        let description = body["embeds"][0]["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), DESCRIPTION_LIMIT);
        assert!(description.ends_with("😀…"));
    }

    #[test]
    fn a_surge_title_is_escaped_like_post_text() {
        let hits = [hit(1, HOSTILE)];
        let note = crate::alerts::render::tests::surge_note();
        let alert = Alert {
            kind: crate::alerts::render::AlertKind::Surge(&note),
            ..mention(&hits, 0)
        };
        let body: Value = serde_json::from_str(&render(&alert, Language::En)).unwrap();
        let content = body["content"].as_str().unwrap();
        assert!(
            content.starts_with("Surge: Turkcell 48 mentions"),
            "{content}"
        );
        assert!(content.ends_with(r"@\*x\* \<@123\>"), "{content}");
    }
}
