//! E-mail receiver: one multipart (text + HTML) message per delivery over SMTP with
//! lettre, pooled connections, STARTTLS required by default (or implicit TLS), and
//! optional authentication. The whole RFC 5322 message, `Message-ID:
//! <delivery-id@mentiond>` and `Date` included, is rendered once and stored, so a
//! retry sends the same bytes. Headers are built only through lettre's typed headers,
//! which encode CR/LF, so post text can never add a header.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::render::{Alert, Language, Limit, fit, link_label, marked, permalink};
use super::{DeliveryError, Notifier};
use crate::escape;
use crate::model::ReceiverName;
use crate::settings::{FieldError, parse_options, take_secret};
use crate::store::Delivery;

/// Characters of post text per hit.
const TEXT_LIMIT: Limit = Limit::chars(5000);
/// Characters of a subject.
const SUBJECT_LIMIT: Limit = Limit::chars(150);
/// Connections kept open to the server.
const POOL_SIZE: u32 = 4;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused if the server cannot (the
    /// default; port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No encryption: only for a relay on the same host (port 25).
    None,
}

/// Validated `kind = "email"` options.
#[derive(Clone)]
pub struct EmailSettings {
    /// SMTP server host name (also the name its certificate must carry).
    pub host: String,
    /// SMTP port.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// User name and password, when the server wants authentication.
    pub credentials: Option<(String, SecretString)>,
    /// Sender.
    pub from: Mailbox,
    /// Recipients.
    pub to: Vec<Mailbox>,
    /// PEM certificates trusted besides the public roots (a private CA).
    pub ca_pem: Option<Vec<u8>>,
    /// Language of the message.
    pub language: Language,
}

impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .field("password", &self.credentials.as_ref().map(|_| "[REDACTED]"))
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailOptions {
    host: String,
    port: Option<u16>,
    tls: Option<String>,
    username: Option<String>,
    from: String,
    to: Vec<String>,
    tls_ca_file: Option<PathBuf>,
    language: Option<String>,
    allow_plaintext_auth: Option<bool>,
}

impl EmailSettings {
    /// Validates `host`, `port`, `tls` (`starttls`, `tls` or `none`), `username` with
    /// `password` (or `password_env` / `password_file`), `allow_plaintext_auth`,
    /// `from`, `to`, `tls_ca_file` and `language`. Credentials over `tls = "none"` are
    /// refused unless `allow_plaintext_auth = true` (a relay on the same host).
    pub fn parse(mut options: Map<String, Value>) -> Result<EmailSettings, FieldError> {
        let password = take_secret(&mut options, "password")?;
        let options: EmailOptions = parse_options(options)?;
        if options.host.trim().is_empty() {
            return Err(FieldError::new("host", "must not be empty"));
        }
        let tls = match options.tls.as_deref().unwrap_or("starttls") {
            "starttls" => SmtpTls::StartTls,
            "tls" => SmtpTls::Implicit,
            "none" => SmtpTls::None,
            other => {
                return Err(FieldError::new(
                    "tls",
                    format!("unknown tls `{other}`, expected `starttls`, `tls` or `none`"),
                ));
            }
        };
        let port = options.port.unwrap_or(match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        });
        let credentials = match (options.username, password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(FieldError::new("password", "`username` needs a password"));
            }
            (None, Some(_)) => {
                return Err(FieldError::new("username", "a password needs `username`"));
            }
        };
        // A password over an unencrypted connection can be read by anyone on the path;
        // only a relay on the same host makes that acceptable, and the operator says so.
        if tls == SmtpTls::None
            && credentials.is_some()
            && !options.allow_plaintext_auth.unwrap_or(false)
        {
            return Err(FieldError::new(
                "tls",
                "`tls = \"none\"` would send the password in clear: use `starttls` or `tls`, \
                 or set `allow_plaintext_auth = true` for a relay on the same host",
            ));
        }
        let from = options
            .from
            .parse::<Mailbox>()
            .map_err(|err| FieldError::new("from", format!("invalid address: {err}")))?;
        if options.to.is_empty() {
            return Err(FieldError::new("to", "name at least one recipient"));
        }
        let to = options
            .to
            .iter()
            .enumerate()
            .map(|(index, address)| {
                address.parse::<Mailbox>().map_err(|err| {
                    FieldError::new(format!("to[{index}]"), format!("invalid address: {err}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ca_pem = match options.tls_ca_file {
            None => None,
            Some(path) => {
                let pem = std::fs::read(&path).map_err(|err| {
                    FieldError::new(
                        "tls_ca_file",
                        format!("cannot read {}: {err}", path.display()),
                    )
                })?;
                Certificate::from_pem(&pem).map_err(|err| {
                    FieldError::new("tls_ca_file", format!("not a PEM certificate: {err}"))
                })?;
                Some(pem)
            }
        };
        let language = options
            .language
            .map_or(Ok(Language::default()), |text| Language::parse(&text))
            .map_err(|message| FieldError::new("language", message))?;
        Ok(EmailSettings {
            host: options.host,
            port,
            tls,
            credentials,
            from,
            to,
            ca_pem,
            language,
        })
    }
}

/// Sends alerts as e-mail through one SMTP server.
pub struct EmailNotifier {
    name: ReceiverName,
    settings: EmailSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    envelope: Envelope,
}

impl EmailNotifier {
    /// A notifier with a pooled transport; `timeout` bounds each SMTP command.
    pub fn new(
        name: ReceiverName,
        settings: EmailSettings,
        timeout: Duration,
    ) -> Result<EmailNotifier, DeliveryError> {
        let smtp = |err: lettre::transport::smtp::Error| DeliveryError::Smtp {
            permanent: true,
            message: err.to_string(),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(POOL_SIZE));
        if settings.tls != SmtpTls::None {
            let mut parameters = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.ca_pem {
                parameters =
                    parameters.add_root_certificate(Certificate::from_pem(pem).map_err(smtp)?);
            }
            let parameters = parameters.build_rustls().map_err(smtp)?;
            builder = builder.tls(match settings.tls {
                SmtpTls::Implicit => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        }
        if let Some((user, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        let envelope = Envelope::new(
            Some(settings.from.email.clone()),
            settings.to.iter().map(|to| to.email.clone()).collect(),
        )
        .map_err(|err| DeliveryError::Smtp {
            permanent: true,
            message: err.to_string(),
        })?;
        Ok(EmailNotifier {
            name,
            settings,
            transport: builder.build(),
            envelope,
        })
    }
}

#[async_trait::async_trait]
impl Notifier for EmailNotifier {
    fn name(&self) -> &ReceiverName {
        &self.name
    }

    fn render(&self, alert: &Alert<'_>) -> String {
        render(alert, &self.settings)
    }

    fn render_report(&self, report: &super::ReportMessage<'_>) -> String {
        super::report::email(report, &self.settings)
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        self.transport
            .send_raw(&self.envelope, delivery.payload.as_bytes())
            .await
            .map(|_| ())
            .map_err(|err| DeliveryError::Smtp {
                permanent: err.is_permanent(),
                message: err.to_string(),
            })
    }
}

/// The whole message for one alert: headers and a text + HTML body.
pub fn render(alert: &Alert<'_>, settings: &EmailSettings) -> String {
    let (subject, text, html) = bodies(alert, settings.language);
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .subject(subject)
        .message_id(Some(format!("<{}@mentiond>", alert.delivery_id)))
        .date(SystemTime::from(alert.now));
    for to in &settings.to {
        builder = builder.to(to.clone());
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(text, html))
        .expect("sender, recipients and body are set");
    String::from_utf8_lossy(&message.formatted()).into_owned()
}

/// Subject, plain text and HTML of one alert.
fn bodies(alert: &Alert<'_>, language: Language) -> (String, String, String) {
    let title = alert.title(language);
    // The first post's words make the subject useful in a list of mails; it is a
    // typed header, so whatever the post contains is encoded, never a new header.
    let first = alert.hits[0]
        .post
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let subject = fit(&format!("{title}: {first}"), SUBJECT_LIMIT, escape::plain);
    let mut text = format!("{}\n", escape::plain(&title));
    let mut html = format!(
        "<!DOCTYPE html><html><body><h2>{}</h2>",
        escape::html(&title)
    );
    for hit in alert.hits {
        let summary = alert.hit_summary(hit, language);
        text.push_str(&format!(
            "\n{}\n{}\n",
            escape::plain(&summary),
            marked(
                &hit.post.text,
                &hit.spans(),
                TEXT_LIMIT,
                escape::plain,
                ("*", "*")
            )
        ));
        html.push_str(&format!(
            "<p style=\"color:#555\">{}</p><blockquote>{}</blockquote>",
            escape::html(&summary),
            marked(
                &hit.post.text,
                &hit.spans(),
                TEXT_LIMIT,
                escape::html,
                ("<b>", "</b>")
            )
        ));
        if let Some(url) = permalink(&hit.post) {
            text.push_str(&format!("{url}\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape::html(url),
                link_label(language)
            ));
        }
    }
    if let Some(more) = alert.more_line(language) {
        text.push_str(&format!("\n{}\n", escape::plain(&more)));
        html.push_str(&format!("<p>{}</p>", escape::html(&more)));
    }
    html.push_str("</body></html>");
    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::render::AlertKind;
    use crate::alerts::render::tests::{HOSTILE, hit, now};

    fn settings(extra: Value) -> Result<EmailSettings, FieldError> {
        let mut options = serde_json::json!({
            "host": "smtp.example", "from": "mentiond <alerts@example.com>",
            "to": ["care@example.com", "Ayşe <ayse@example.com>"]
        });
        for (key, value) in extra.as_object().unwrap() {
            options[key] = value.clone();
        }
        EmailSettings::parse(options.as_object().unwrap().clone())
    }

    #[test]
    fn settings_default_to_starttls_and_hide_the_password() {
        let parsed = settings(serde_json::json!({"username": "u", "password": "hunter2"})).unwrap();
        assert_eq!((parsed.tls, parsed.port), (SmtpTls::StartTls, 587));
        assert!(!format!("{parsed:?}").contains("hunter2"));
        assert_eq!(
            settings(serde_json::json!({"tls": "tls"})).unwrap().port,
            465
        );
        let key = |extra| settings(extra).unwrap_err().key;
        assert_eq!(key(serde_json::json!({"tls": "maybe"})), "tls");
        assert_eq!(key(serde_json::json!({"username": "u"})), "password");
        assert_eq!(key(serde_json::json!({"to": ["not an address"]})), "to[0]");
        assert_eq!(key(serde_json::json!({"to": []})), "to");
    }

    #[test]
    fn credentials_over_plain_smtp_need_an_explicit_allowance() {
        let plain = serde_json::json!({"tls": "none", "username": "u", "password": "hunter2"});
        let err = settings(plain.clone()).unwrap_err();
        assert_eq!(err.key, "tls");
        assert!(
            err.message.contains("allow_plaintext_auth"),
            "{}",
            err.message
        );
        let mut allowed = plain;
        allowed["allow_plaintext_auth"] = serde_json::json!(true);
        let parsed = settings(allowed).unwrap();
        assert_eq!((parsed.tls, parsed.port), (SmtpTls::None, 25));
        assert!(parsed.credentials.is_some());
        // Without credentials there is nothing to leak.
        assert!(settings(serde_json::json!({"tls": "none"})).is_ok());
    }

    #[test]
    fn a_hostile_post_cannot_add_headers_or_markup() {
        let text = format!("Turkcell iade\r\nBcc: x@example.org\r\n\r\n{HOSTILE}");
        let hits = [hit(1, &text)];
        let alert = Alert {
            delivery_id: &"msg_abc".into(),
            hits: &hits,
            more_hits: 0,
            now: now(),
            kind: AlertKind::Mention,
        };
        let message = render(
            &alert,
            &settings(serde_json::json!({"language": "en"})).unwrap(),
        );
        let (headers, body) = message.split_once("\r\n\r\n").unwrap();
        let unfolded = headers.replace("\r\n ", " ");
        let names: Vec<&str> = unfolded
            .lines()
            .map(|line| line.split(':').next().unwrap())
            .collect();
        assert_eq!(
            names
                .iter()
                .filter(|n| n.eq_ignore_ascii_case("subject"))
                .count(),
            1
        );
        assert!(
            !names.iter().any(|n| n.eq_ignore_ascii_case("bcc")),
            "{headers}"
        );
        assert!(
            unfolded.contains("Message-ID: <msg_abc@mentiond>"),
            "{headers}"
        );
        assert!(unfolded.contains("multipart/alternative"), "{headers}");
        assert!(body.contains("text/plain") && body.contains("text/html"));

        let (subject, text, html) = bodies(&alert, Language::En);
        assert!(
            subject.starts_with("Turkcell: 1 new mention: Turkcell iade Bcc:"),
            "{subject}"
        );
        assert!(text.contains("*Turkcell* iade"));
        assert!(html.contains("<blockquote><b>Turkcell</b> iade") && html.contains("Turkcell &lt;!channel&gt; @everyone &lt;script&gt;alert(1)&lt;/script&gt; &lt;/b&gt;"), "{html}");
        assert!(html.contains("(Ayşe &lt;b&gt;)"));

        let mut flipped = [hit(2, "Turkcell \u{202E}gnikcah\u{2069} \u{1b}[2J\u{85}")];
        if let Some(author) = flipped[0].post.author.as_mut() {
            author.name = Some("Ayşe\u{202E}\u{200F}\r".into());
        }
        let alert = Alert {
            hits: &flipped,
            ..alert
        };
        let (subject, text, html) = bodies(&alert, Language::En);
        for part in [&subject, &text, &html] {
            let bad = part.chars().find(|&c| escape::is_unsafe(c) && c != '\n');
            assert_eq!(bad, None, "{part:?}");
        }
        assert!(
            text.contains("(Ayşe)") && text.contains("*Turkcell* gnikcah [2J"),
            "{text}"
        );
        assert!(html.contains("<a href=\"https://x.example/p/1\">Open post</a>"));
        let tags: Vec<&str> = html
            .match_indices('<')
            .map(|(i, _)| &html[i..(i + 3).min(html.len())])
            .collect();
        assert!(
            tags.iter().all(|t| [
                "<!D", "<ht", "</h", "<bo", "</b", "<h2", "<p ", "</p", "<bl", "<b>", "<p>", "<a ",
                "</a"
            ]
            .contains(t)),
            "{tags:?}"
        );
    }
}
