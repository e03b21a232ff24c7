//! E-mail end to end against the loopback SMTP server in `smtp_server`: plain SMTP,
//! STARTTLS with authentication, a 4xx then accept, and a subject built from a post
//! carrying `\r\nBcc:` that adds no header.

use crate::smtp_server::{Behaviour, Captured, SmtpServer};
use crate::support::{TICKETS_SOURCE, Workspace, wait_for};

const INJECTION: &str = r#"{"source":"x","id":"1","url":"https://x.example/1","author":{"handle":"ayse","followers":42},"text":"Turkcell iade\r\nBcc: x@example.org\r\nSubject: free <script>alert(1)</script>"}"#;

fn email_config(server: &SmtpServer, extra: &str) -> String {
    format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"email\"\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"mentiond <alerts@example.com>\"\nto = [\"care@example.com\", \"lead@example.com\"]\nlanguage = \"en\"\n{extra}\n[[routes]]\nreceivers = [\"mail\"]\n",
        server.port
    )
}

/// Header lines of a message, unfolded, as (name, value).
fn headers(message: &Captured) -> Vec<(String, String)> {
    let head = message.data.split("\r\n\r\n").next().unwrap();
    head.replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_smtp_sends_one_multipart_message_and_a_hostile_subject_adds_no_header() {
    let server = SmtpServer::start(Behaviour::default()).await;
    let workspace = Workspace::new(&email_config(&server, "tls = \"none\""));
    workspace.append_tickets(&[INJECTION]);
    let daemon = workspace.start();
    let messages = server.wait_for_messages(1).await;
    daemon.stop();

    let message = &messages[0];
    assert!(!message.tls);
    assert_eq!(message.from, "<alerts@example.com>");
    assert_eq!(
        message.to,
        ["<care@example.com>", "<lead@example.com>"],
        "envelope unchanged"
    );
    let headers = headers(message);
    let count = |name: &str| headers.iter().filter(|(n, _)| n == name).count();
    assert_eq!(count("subject"), 1, "{headers:?}");
    assert_eq!(count("bcc"), 0, "{headers:?}");
    assert_eq!(count("cc"), 0);
    let id = workspace.deliveries()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let message_id = headers.iter().find(|(n, _)| n == "message-id").unwrap();
    assert_eq!(message_id.1, format!("<{id}@mentiond>"));
    let content_type = headers.iter().find(|(n, _)| n == "content-type").unwrap();
    assert!(
        content_type.1.starts_with("multipart/alternative"),
        "{content_type:?}"
    );
    assert!(message.data.contains("text/plain") && message.data.contains("text/html"));
    // The HTML part, quoted-printable soft line breaks undone.
    let html = message
        .data
        .split("Content-Type: text/html")
        .nth(1)
        .unwrap()
        .replace("=\r\n", "");
    assert!(
        !html.contains("<script>"),
        "no element comes from the post: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        message.data.split("\r\n").all(|line| line.len() <= 998),
        "every line within 998 octets"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_with_authentication_is_required_and_used() {
    let server = SmtpServer::start(Behaviour {
        starttls: true,
        require_tls: true,
        auth: Some(("mentiond".into(), "s3cret-pass".into())),
        fail_rcpt: 0,
    })
    .await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &server.cert_pem).unwrap();
    let workspace = Workspace::new(&email_config(
        &server,
        &format!(
            "username = \"mentiond\"\npassword = \"s3cret-pass\"\ntls_ca_file = \"{}\"",
            ca.path().display()
        ),
    ));
    workspace.append_tickets(&[INJECTION]);
    let daemon = workspace.start();
    let messages = server.wait_for_messages(1).await;
    let log = daemon.log_text();
    daemon.stop();
    assert!(messages[0].tls, "sent after STARTTLS");
    assert_eq!(messages[0].user.as_deref(), Some("mentiond"));
    assert!(
        !log.contains("s3cret-pass"),
        "the password stays out of the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_4xx_is_retried_and_the_message_accepted_once_with_the_same_id() {
    let server = SmtpServer::start(Behaviour {
        fail_rcpt: 1,
        ..Behaviour::default()
    })
    .await;
    let workspace = Workspace::new(&email_config(&server, "tls = \"none\""));
    workspace.append_tickets(&[INJECTION]);
    let daemon = workspace.start();
    let messages = server.wait_for_messages(1).await;
    wait_for("delivered", std::time::Duration::from_secs(20), || {
        workspace
            .deliveries()
            .first()
            .is_some_and(|d| d["status"] == "delivered")
    });
    std::thread::sleep(std::time::Duration::from_millis(600));
    daemon.stop();
    assert_eq!(server.rcpt_refusals(), 1);
    assert_eq!(server.messages().len(), 1, "accepted once");
    let delivery = &workspace.deliveries()[0];
    assert_eq!(delivery["attempts"], 2);
    let id = delivery["id"].as_str().unwrap();
    assert!(messages[0].data.contains(&format!("<{id}@mentiond>")));
}

#[test]
fn a_password_over_plain_smtp_is_a_config_error_naming_the_key() {
    let workspace = Workspace::new(
        "[[receivers]]\nkind = \"email\"\nname = \"mail\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"mentiond\"\npassword = \"s3cret-pass\"\nfrom = \"alerts@example.com\"\nto = [\"care@example.com\"]\n",
    );
    let output = workspace.command(&["check"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("receivers[0].tls:") && text.contains("allow_plaintext_auth"),
        "{text}"
    );
    assert!(!text.contains("s3cret-pass"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plaintext_authentication_works_when_explicitly_allowed() {
    let server = SmtpServer::start(Behaviour {
        auth: Some(("mentiond".into(), "s3cret-pass".into())),
        ..Behaviour::default()
    })
    .await;
    let workspace = Workspace::new(&email_config(
        &server,
        "tls = \"none\"\nallow_plaintext_auth = true\nusername = \"mentiond\"\npassword = \"s3cret-pass\"",
    ));
    workspace.append_tickets(&[INJECTION]);
    let daemon = workspace.start();
    let messages = server.wait_for_messages(1).await;
    daemon.stop();
    assert!(!messages[0].tls);
    assert_eq!(messages[0].user.as_deref(), Some("mentiond"));
}
