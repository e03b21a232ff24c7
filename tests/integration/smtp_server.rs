//! A real SMTP server on 127.0.0.1 for the e-mail tests: EHLO, STARTTLS (rustls with a
//! self-signed certificate made at test time), AUTH PLAIN, MAIL, RCPT, DATA, RSET and
//! QUIT over TCP, speaking to the daemon's lettre client. It can require TLS before
//! MAIL and answer the first RCPTs with a 4xx, and it records every accepted message
//! byte for byte with its envelope.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::wait_for_async;

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Offer STARTTLS.
    pub starttls: bool,
    /// Refuse MAIL on a connection that is not encrypted.
    pub require_tls: bool,
    /// Require AUTH PLAIN with this user and password before MAIL.
    pub auth: Option<(String, String)>,
    /// Answer this many RCPT commands with `451` before accepting.
    pub fail_rcpt: usize,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The message as received (dot-unstuffed).
    pub data: String,
    /// Whether it came over TLS.
    pub tls: bool,
    /// The authenticated user, if any.
    pub user: Option<String>,
}

struct Shared {
    behaviour: Behaviour,
    fail_rcpt: AtomicUsize,
    acceptor: TlsAcceptor,
    captured: Mutex<Vec<Captured>>,
    rcpt_refusals: AtomicUsize,
}

/// A running server; it stops with the test's runtime.
pub struct SmtpServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The self-signed certificate, PEM, for the client to trust.
    pub cert_pem: String,
    shared: Arc<Shared>,
}

/// A TLS acceptor with a certificate for 127.0.0.1 and localhost made now, and that
/// certificate (self-signed, so only a client told to trust it does).
pub fn self_signed_acceptor() -> (TlsAcceptor, rcgen::CertifiedKey) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(certified.cert.der().to_vec())],
        key,
    )
    .unwrap();
    (TlsAcceptor::from(Arc::new(config)), certified)
}

impl SmtpServer {
    /// Starts a server on 127.0.0.1 with the given behaviour.
    pub async fn start(behaviour: Behaviour) -> SmtpServer {
        let (acceptor, certified) = self_signed_acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            fail_rcpt: AtomicUsize::new(behaviour.fail_rcpt),
            behaviour,
            acceptor,
            captured: Mutex::new(Vec::new()),
            rcpt_refusals: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&accepting);
                tokio::spawn(async move {
                    if let Some(plain) = serve(stream, false, true, &shared).await
                        && let Ok(tls) = shared.acceptor.accept(plain).await
                    {
                        serve(tls, true, false, &shared).await;
                    }
                });
            }
        });
        SmtpServer {
            port,
            cert_pem: certified.cert.pem(),
            shared,
        }
    }

    /// Messages accepted so far.
    pub fn messages(&self) -> Vec<Captured> {
        self.shared.captured.lock().unwrap().clone()
    }

    /// How many RCPT commands were refused with a 4xx.
    pub fn rcpt_refusals(&self) -> usize {
        self.shared.rcpt_refusals.load(Ordering::SeqCst)
    }

    /// Waits (bounded) for `n` accepted messages.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<Captured> {
        wait_for_async(&format!("{n} e-mails"), Duration::from_secs(20), || async {
            self.messages().len() >= n
        })
        .await;
        self.messages()
    }
}

/// Serves one connection until QUIT or EOF; returns the stream when the client asked
/// for STARTTLS, so the caller can wrap it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    tls: bool,
    greet: bool,
    shared: &Shared,
) -> Option<S> {
    let behaviour = &shared.behaviour;
    let mut stream = BufReader::new(stream);
    if greet {
        reply(&mut stream, "220 localhost ESMTP mentiond-test\r\n").await?;
    }
    let (mut from, mut to, mut user): (Option<String>, Vec<String>, Option<String>) =
        (None, Vec::new(), None);
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let answer: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut answer = String::from("250-localhost\r\n");
            if behaviour.starttls && !tls {
                answer.push_str("250-STARTTLS\r\n");
            }
            if behaviour.auth.is_some() {
                answer.push_str("250-AUTH PLAIN\r\n");
            }
            answer.push_str("250 8BITMIME\r\n");
            answer
        } else if upper == "STARTTLS" && behaviour.starttls && !tls {
            reply(&mut stream, "220 2.0.0 ready to start TLS\r\n").await?;
            return Some(stream.into_inner());
        } else if upper.starts_with("AUTH PLAIN ") {
            let decoded = BASE64.decode(command[11..].trim()).unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            match (&behaviour.auth, parts.as_slice()) {
                (Some((u, p)), [_, given_user, given_password])
                    if given_user == &u.as_bytes() && given_password == &p.as_bytes() =>
                {
                    user = Some(u.clone());
                    "235 2.7.0 authenticated\r\n".into()
                }
                _ => "535 5.7.8 bad credentials\r\n".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            if behaviour.require_tls && !tls {
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            } else if behaviour.auth.is_some() && user.is_none() {
                "530 5.7.0 authentication required\r\n".into()
            } else {
                from = Some(command[10..].trim().to_string());
                "250 2.1.0 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let refuse = shared
                .fail_rcpt
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refuse {
                shared.rcpt_refusals.fetch_add(1, Ordering::SeqCst);
                "451 4.3.0 try again later\r\n".into()
            } else {
                to.push(command[8..].trim().to_string());
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper == "DATA" {
            reply(&mut stream, "354 end data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            loop {
                let mut line = String::new();
                if stream.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            shared.captured.lock().unwrap().push(Captured {
                from: from.take().unwrap_or_default(),
                to: std::mem::take(&mut to),
                data,
                tls,
                user: user.clone(),
            });
            "250 2.0.0 queued\r\n".into()
        } else if upper == "RSET" {
            from = None;
            to.clear();
            "250 2.0.0 ok\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            reply(&mut stream, "221 2.0.0 bye\r\n").await?;
            return None;
        } else {
            "502 5.5.2 command not recognised\r\n".into()
        };
        reply(&mut stream, &answer).await?;
    }
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    text: &str,
) -> Option<()> {
    stream.get_mut().write_all(text.as_bytes()).await.ok()?;
    stream.get_mut().flush().await.ok()
}
