//! The message of a daily report sent to a receiver (`[report] send_to`): e-mail gets
//! the HTML page as its body and the CSV attached, chat receivers a short summary
//! with the totals, `webhook` and `file` the JSON (the `Notifier::render_report`
//! default). The report's texts come rendered; what is sent is escaped here for
//! each format.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart};
use serde_json::json;

use super::chat::ChatFormat;
use super::email::EmailSettings;
use crate::escape;
use crate::model::DeliveryId;

/// One report as the receivers get it.
#[derive(Debug, Clone, Copy)]
pub struct ReportMessage<'a> {
    /// The delivery id (`report_<day>_<receiver>`).
    pub id: &'a DeliveryId,
    /// `Daily report: 25 November 2026`.
    pub title: &'a str,
    /// A few lines with the totals, plain text.
    pub summary: &'a str,
    /// The HTML page.
    pub html: &'a str,
    /// The CSV, one row per hit.
    pub csv: &'a str,
    /// The CSV's file name (`2026-11-25.csv`).
    pub csv_name: &'a str,
    /// The JSON form on one line.
    pub json: &'a str,
    /// When it is sent.
    pub now: DateTime<Utc>,
}

/// The whole e-mail: the summary as text, the page as HTML, the CSV attached.
pub fn email(report: &ReportMessage<'_>, settings: &EmailSettings) -> String {
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .subject(escape::plain(report.title).into_owned())
        .message_id(Some(format!("<{}@mentiond>", report.id)))
        .date(SystemTime::from(report.now));
    for to in &settings.to {
        builder = builder.to(to.clone());
    }
    let csv_type = ContentType::parse("text/csv; charset=utf-8").unwrap_or(ContentType::TEXT_PLAIN);
    let body = MultiPart::mixed()
        .multipart(MultiPart::alternative_plain_html(
            escape::plain(report.summary).into_owned(),
            report.html.to_string(),
        ))
        .singlepart(
            Attachment::new(report.csv_name.to_string()).body(report.csv.to_string(), csv_type),
        );
    match builder.multipart(body) {
        Ok(message) => String::from_utf8_lossy(&message.formatted()).into_owned(),
        // Sender and recipients are validated settings: this cannot fail.
        Err(_) => String::new(),
    }
}

/// The chat message: the title and the summary, escaped for the platform.
pub fn chat(report: &ReportMessage<'_>, format: &ChatFormat) -> String {
    match format {
        ChatFormat::Slack => json!({
            "text": format!("*{}*\n{}", escape::slack(report.title), escape::slack(report.summary)),
        }),
        ChatFormat::Discord => json!({
            "content": format!("**{}**\n{}", escape::markdown(report.title), escape::markdown(report.summary)),
            "allowed_mentions": {"parse": []},
        }),
        ChatFormat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": serde_json::Value::Null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": escape::markdown(report.title), "weight": "Bolder", "wrap": true},
                        {"type": "TextBlock", "text": escape::markdown(report.summary), "wrap": true},
                    ],
                },
            }],
        }),
        ChatFormat::Telegram { chat_id } => json!({
            "chat_id": chat_id,
            "text": format!("<b>{}</b>\n{}", escape::html(report.title), escape::html(report.summary)),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        }),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const HOSTILE: &str = "<b>x</b> <@everyone> *bold* [l](http://evil.example) \u{202E}";

    fn message<'a>(id: &'a DeliveryId, summary: &'a str) -> ReportMessage<'a> {
        ReportMessage {
            id,
            title: "Daily report: 25 November 2026",
            summary,
            html: "<!DOCTYPE html><html><body><h1>Daily report</h1></body></html>",
            csv: "hit_id,text\r\n1,\"'=HYPERLINK(\"\"x\"\")\"\r\n",
            csv_name: "2026-11-25.csv",
            json: "{\"schema_version\":1}",
            now: Utc.with_ymd_and_hms(2026, 11, 25, 21, 5, 0).unwrap(),
        }
    }

    #[test]
    fn the_email_has_the_page_as_its_body_and_the_csv_attached() {
        let settings = EmailSettings::parse(
            json!({"host": "smtp.example", "from": "mentiond <alerts@example.com>", "to": ["care@example.com"]})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        let id = DeliveryId("report_2026-11-25_care-mail".into());
        let mail = email(&message(&id, "Mentions: 6"), &settings);
        assert!(
            mail.contains("Subject: Daily report: 25 November 2026"),
            "{mail}"
        );
        assert!(mail.contains("Message-ID: <report_2026-11-25_care-mail@mentiond>"));
        assert!(mail.contains("multipart/mixed") && mail.contains("multipart/alternative"));
        assert!(mail.contains("Content-Type: text/html"));
        assert!(mail.contains("Content-Disposition: attachment; filename=\"2026-11-25.csv\""));
        assert!(mail.contains("Content-Type: text/csv; charset=utf-8"));
    }

    #[test]
    fn chat_summaries_are_escaped_for_each_platform() {
        let id = DeliveryId("report_2026-11-25_chat".into());
        let report = message(&id, HOSTILE);
        let body = |format| -> serde_json::Value {
            serde_json::from_str(&chat(&report, &format)).unwrap()
        };
        let slack = body(ChatFormat::Slack);
        assert!(
            slack["text"]
                .as_str()
                .unwrap()
                .contains("&lt;@everyone&gt;")
        );
        let discord = body(ChatFormat::Discord);
        assert!(
            discord["content"]
                .as_str()
                .unwrap()
                .contains(r"\[l\]\(http://evil.example\)")
        );
        assert_eq!(discord["allowed_mentions"]["parse"], json!([]));
        let teams = body(ChatFormat::Teams);
        let card = &teams["attachments"][0]["content"]["body"][1]["text"];
        assert!(card.as_str().unwrap().contains(r"\*bold\*"));
        let telegram = body(ChatFormat::Telegram {
            chat_id: "@care".into(),
        });
        assert!(
            telegram["text"]
                .as_str()
                .unwrap()
                .contains("&lt;b&gt;x&lt;/b&gt;")
        );
        assert_eq!(telegram["chat_id"], "@care");
        for format in [ChatFormat::Slack, ChatFormat::Discord, ChatFormat::Teams] {
            assert!(!chat(&report, &format).contains('\u{202E}'));
        }
    }
}
