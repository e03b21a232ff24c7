//! Chat receivers: Slack incoming webhooks, Microsoft Teams Workflows, Discord webhooks
//! and Telegram's Bot API `sendMessage`. One notifier POSTs every format's JSON; each
//! format's body is built in its own module ([`super::slack`], [`super::teams`],
//! [`super::discord`], [`super::telegram`]). URLs and bot tokens are secrets.

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::render::{Alert, Language};
use super::{DeliveryError, Notifier, discord, slack, teams, telegram};
use crate::http::{self, read_body_capped, retry_after};
use crate::model::ReceiverName;
use crate::settings::{FieldError, parse_options, take_secret};
use crate::store::Delivery;

/// Telegram's public Bot API root.
const TELEGRAM_API: &str = "https://api.telegram.org";

/// Largest error body read to find a `retry_after`.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Which chat platform, with what its body needs beyond the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatFormat {
    /// Block Kit JSON for a Slack incoming webhook.
    Slack,
    /// An Adaptive Card for a Teams Workflows URL.
    Teams,
    /// Embeds for a Discord webhook, mentions disabled.
    Discord,
    /// An HTML-formatted `sendMessage` to one chat.
    Telegram {
        /// Chat id or `@channel` name.
        chat_id: String,
    },
}

/// Validated options of a `slack`, `teams`, `discord` or `telegram` receiver.
#[derive(Clone)]
pub struct ChatSettings {
    /// The platform.
    pub format: ChatFormat,
    /// Where to POST; a secret (it carries the webhook token or the bot token).
    pub url: SecretString,
    /// Language of the message.
    pub language: Language,
}

impl fmt::Debug for ChatSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatSettings")
            .field("format", &self.format)
            .field("url", &"[REDACTED]")
            .field("language", &self.language)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookChatOptions {
    language: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramOptions {
    language: Option<String>,
    chat_id: ChatId,
    api_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ChatId {
    Number(i64),
    Text(String),
}

impl ChatSettings {
    /// Validates the options of a receiver of chat `kind`: `url` (or `url_env` /
    /// `url_file`) for Slack, Teams and Discord; `token` (or `token_env` /
    /// `token_file`), `chat_id` and optional `api_url` for Telegram; `language`.
    pub fn parse(kind: &str, mut options: Map<String, Value>) -> Result<ChatSettings, FieldError> {
        if kind == "telegram" {
            let token = take_secret(&mut options, "token")?.ok_or_else(|| {
                FieldError::new("token", "set `token`, `token_env` or `token_file`")
            })?;
            let options: TelegramOptions = parse_options(options)?;
            let chat_id = match options.chat_id {
                ChatId::Number(id) => id.to_string(),
                ChatId::Text(id) if !id.trim().is_empty() => id,
                ChatId::Text(_) => return Err(FieldError::new("chat_id", "must not be empty")),
            };
            let api = options.api_url.unwrap_or_else(|| TELEGRAM_API.to_string());
            if !valid_http_url(&api) {
                return Err(FieldError::new("api_url", "not a valid http(s) URL"));
            }
            let url = format!(
                "{}/bot{}/sendMessage",
                api.trim_end_matches('/'),
                token.expose_secret()
            );
            if !valid_http_url(&url) {
                return Err(FieldError::new("token", "not usable in a URL"));
            }
            return Ok(ChatSettings {
                format: ChatFormat::Telegram { chat_id },
                url: SecretString::from(url),
                language: language(options.language)?,
            });
        }
        let format = match kind {
            "slack" => ChatFormat::Slack,
            "teams" => ChatFormat::Teams,
            "discord" => ChatFormat::Discord,
            other => return Err(FieldError::new("kind", format!("not a chat kind: {other}"))),
        };
        let url = take_secret(&mut options, "url")?
            .ok_or_else(|| FieldError::new("url", "set `url`, `url_env` or `url_file`"))?;
        let options: WebhookChatOptions = parse_options(options)?;
        if !valid_http_url(url.expose_secret()) {
            return Err(FieldError::new("url", "not a valid http(s) URL"));
        }
        Ok(ChatSettings {
            format,
            url,
            language: language(options.language)?,
        })
    }
}

fn language(value: Option<String>) -> Result<Language, FieldError> {
    value
        .map_or(Ok(Language::default()), |text| Language::parse(&text))
        .map_err(|message| FieldError::new("language", message))
}

fn valid_http_url(text: &str) -> bool {
    reqwest::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// Sends alerts to one chat endpoint.
pub struct ChatNotifier {
    name: ReceiverName,
    settings: ChatSettings,
    http: reqwest::Client,
}

impl ChatNotifier {
    /// A notifier using `http`, which must not follow redirects.
    pub fn new(name: ReceiverName, settings: ChatSettings, http: reqwest::Client) -> ChatNotifier {
        ChatNotifier {
            name,
            settings,
            http,
        }
    }
}

#[async_trait::async_trait]
impl Notifier for ChatNotifier {
    fn name(&self) -> &ReceiverName {
        &self.name
    }

    fn render(&self, alert: &Alert<'_>) -> String {
        let language = self.settings.language;
        match &self.settings.format {
            ChatFormat::Slack => slack::render(alert, language),
            ChatFormat::Teams => teams::render(alert, language),
            ChatFormat::Discord => discord::render(alert, language),
            ChatFormat::Telegram { chat_id } => telegram::render(alert, language, chat_id),
        }
    }

    fn render_report(&self, report: &super::ReportMessage<'_>) -> String {
        super::report::chat(report, &self.settings.format)
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let started = std::time::Instant::now();
        let response = self
            .http
            .post(self.settings.url.expose_secret())
            .header("content-type", "application/json")
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|err| DeliveryError::Transport(http::describe(&err, started.elapsed())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let header = retry_after(response.headers(), Utc::now());
        let from_body = if status.as_u16() == 429 {
            read_body_capped(response, MAX_ERROR_BODY, started)
                .await
                .ok()
                .and_then(|body| body_retry_after(&body))
        } else {
            None
        };
        Err(DeliveryError::Status {
            status: status.as_u16(),
            retry_after: from_body.or(header),
        })
    }
}

/// The wait a 429 body asks for: Discord's `retry_after` (seconds, fractional) or
/// Telegram's `parameters.retry_after` (whole seconds).
pub fn body_retry_after(body: &[u8]) -> Option<Duration> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let seconds = value
        .get("retry_after")
        .or_else(|| value.get("parameters")?.get("retry_after"))?
        .as_f64()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn retry_after_from_discord_and_telegram_bodies() {
        assert_eq!(
            body_retry_after(
                br#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            body_retry_after(br#"{"ok":false,"error_code":429,"parameters":{"retry_after":7}}"#),
            Some(Duration::from_secs(7))
        );
        assert_eq!(body_retry_after(b"slow down"), None);
        assert_eq!(body_retry_after(br#"{"retry_after":-1}"#), None);
    }

    #[test]
    fn settings_validate_every_kind_and_never_print_secrets() {
        let slack = ChatSettings::parse(
            "slack",
            options(serde_json::json!({"url": "https://hooks.slack.example/T0/B0/secret-token", "language": "en"})),
        )
        .unwrap();
        assert_eq!(slack.format, ChatFormat::Slack);
        assert_eq!(slack.language, Language::En);
        assert!(!format!("{slack:?}").contains("secret-token"));

        let telegram = ChatSettings::parse(
            "telegram",
            options(serde_json::json!({"token": "123:bot-secret", "chat_id": -100123, "api_url": "http://127.0.0.1:9/"})),
        )
        .unwrap();
        assert_eq!(
            telegram.url.expose_secret(),
            "http://127.0.0.1:9/bot123:bot-secret/sendMessage"
        );
        assert_eq!(
            telegram.format,
            ChatFormat::Telegram {
                chat_id: "-100123".into()
            }
        );
        assert_eq!(telegram.language, Language::Tr, "Turkish by default");
        assert!(!format!("{telegram:?}").contains("bot-secret"));

        let err =
            |kind: &str, value: Value| ChatSettings::parse(kind, options(value)).unwrap_err().key;
        assert_eq!(err("teams", serde_json::json!({})), "url");
        assert_eq!(err("discord", serde_json::json!({"url": "ftp://x"})), "url");
        assert_eq!(
            err(
                "discord",
                serde_json::json!({"url": "https://d.example", "language": "de"})
            ),
            "language"
        );
        assert_eq!(
            err(
                "slack",
                serde_json::json!({"url": "https://s.example", "link_names": true})
            ),
            "link_names"
        );
        assert_eq!(err("telegram", serde_json::json!({"chat_id": 1})), "token");
        assert_eq!(
            err("telegram", serde_json::json!({"token": "t"})),
            "chat_id"
        );
    }
}
