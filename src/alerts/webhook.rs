//! Generic webhook receiver: POSTs the alert JSON, signed per Standard Webhooks v1
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).
//! The id is the delivery id, identical on every retry, so receivers can deduplicate.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

use super::render::{self, Alert};
use super::{DeliveryError, Notifier};
use crate::http::{self, retry_after};
use crate::model::ReceiverName;
use crate::settings::{FieldError, InvalidValue, parse_options, take_secret};
use crate::store::Delivery;

/// Validated `kind = "webhook"` options.
#[derive(Clone)]
pub struct WebhookSettings {
    /// Target URL; treated as a secret (chat webhook URLs carry their token).
    pub url: reqwest::Url,
    /// Signing key, decoded from `whsec_…`.
    pub secret: Option<SigningKey>,
    /// Most hits one message carries; a larger group is split, never cut.
    pub hits_per_message: usize,
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// A Standard Webhooks signing key; never printed.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

impl SigningKey {
    /// Decodes a `whsec_<base64>` secret.
    pub fn parse(secret: &SecretString) -> Result<SigningKey, InvalidValue> {
        let invalid = |message: &str| InvalidValue(message.to_string());
        let encoded = secret
            .expose_secret()
            .strip_prefix("whsec_")
            .ok_or_else(|| invalid("must be of the form whsec_<base64>"))?;
        let key = BASE64
            .decode(encoded)
            .map_err(|_| invalid("the part after whsec_ is not valid base64"))?;
        if key.is_empty() {
            return Err(invalid("the key is empty"));
        }
        Ok(SigningKey(key))
    }

    /// The `webhook-signature` value for one attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookOptions {
    hits_per_message: Option<usize>,
}

impl WebhookSettings {
    /// Validates `url` (or `url_env` / `url_file`) and `secret` (or `secret_env` / `secret_file`).
    pub fn parse(mut options: Map<String, Value>) -> Result<WebhookSettings, FieldError> {
        let url = take_secret(&mut options, "url")?
            .ok_or_else(|| FieldError::new("url", "set `url`, `url_env` or `url_file`"))?;
        let secret = take_secret(&mut options, "secret")?;
        let options: WebhookOptions = parse_options(options)?;
        let hits_per_message = super::hits_per_message(options.hits_per_message)?;
        let url = match reqwest::Url::parse(url.expose_secret()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => return Err(FieldError::new("url", "not a valid http(s) URL")),
        };
        let secret = secret
            .map(|s| SigningKey::parse(&s).map_err(|message| FieldError::new("secret", message)))
            .transpose()?;
        Ok(WebhookSettings {
            url,
            secret,
            hits_per_message,
        })
    }
}

/// Sends alerts to one webhook URL.
pub struct WebhookNotifier {
    name: ReceiverName,
    settings: WebhookSettings,
    http: reqwest::Client,
}

impl WebhookNotifier {
    /// A notifier using `http`, which must not follow redirects.
    pub fn new(
        name: ReceiverName,
        settings: WebhookSettings,
        http: reqwest::Client,
    ) -> WebhookNotifier {
        WebhookNotifier {
            name,
            settings,
            http,
        }
    }
}

#[async_trait::async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &ReceiverName {
        &self.name
    }

    fn render(&self, alert: &Alert<'_>) -> String {
        render::json(alert)
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let timestamp = Utc::now().timestamp();
        let mut request = self
            .http
            .post(self.settings.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", delivery.id.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .body(delivery.payload.clone());
        if let Some(key) = &self.settings.secret {
            request = request.header(
                "webhook-signature",
                key.sign(delivery.id.as_str(), timestamp, &delivery.payload),
            );
        }
        let started = std::time::Instant::now();
        let response = request
            .send()
            .await
            .map_err(|err| DeliveryError::Transport(http::describe(&err, started.elapsed())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(DeliveryError::Status {
            status: status.as_u16(),
            retry_after: retry_after(response.headers(), Utc::now()),
        })
    }
}

/// `https://hooks.example/…`: enough to recognise the endpoint, nothing secret.
fn redacted_url(url: &reqwest::Url) -> String {
    format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        let key = SigningKey::parse(&SecretString::from(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ))
        .unwrap();
        assert_eq!(
            key.sign(
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                r#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn settings_validate_and_never_print_secrets() {
        let options = |v: Value| v.as_object().unwrap().clone();
        let settings = WebhookSettings::parse(options(serde_json::json!({
            "url": "https://hooks.example/T000/secret-token",
            "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
        })))
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(
            !debug.contains("secret-token") && !debug.contains("C2FV"),
            "{debug}"
        );

        let err = WebhookSettings::parse(options(
            serde_json::json!({"url": "https://a.example", "secret": "plain"}),
        ))
        .unwrap_err();
        assert_eq!(err.key, "secret");
        let err =
            WebhookSettings::parse(options(serde_json::json!({"url": "ftp://a"}))).unwrap_err();
        assert_eq!(err.key, "url");
        let err = WebhookSettings::parse(options(
            serde_json::json!({"url": "https://a.example", "sekret": "x"}),
        ))
        .unwrap_err();
        assert_eq!(err.key, "sekret");
        assert_eq!(WebhookSettings::parse(Map::new()).unwrap_err().key, "url");
    }
}
