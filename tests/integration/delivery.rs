//! Delivery semantics end to end: retries with the same id, `Retry-After`, 3xx and
//! 410, the age limit, `mentiond deliveries [retry]`, and a daemon killed mid-send.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::{ScriptedReceiver, TICKETS_SOURCE, Workspace, header, wait_for};

const TICKET_1: &str =
    r#"{"source":"callcenter","id":"T-1","text":"Turkcell faturam iki kat geldi"}"#;
const TICKET_2: &str = r#"{"source":"callcenter","id":"T-2","text":"THY bagajım kayıp"}"#;

fn hook_config(url: &str, extra: &str) -> String {
    format!(
        "{extra}{TICKETS_SOURCE}\n[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{url}\"\n\n[[routes]]\nreceivers = [\"hook\"]\n"
    )
}

fn status_of(workspace: &Workspace, id: &str) -> Value {
    workspace
        .deliveries()
        .into_iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no delivery {id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundreds_then_success_is_delivered_once_with_one_webhook_id() {
    let hook = ScriptedReceiver::start(
        "/hook",
        vec![
            ResponseTemplate::new(500),
            ResponseTemplate::new(500),
            ResponseTemplate::new(503),
        ],
        ResponseTemplate::new(200),
    )
    .await;
    let workspace = Workspace::new(&hook_config(&hook.url(), ""));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let requests = hook.wait_for_requests(4).await;
    // Several backoff periods pass: a delivered alert is never sent again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    daemon.stop();

    assert_eq!(hook.requests().len(), 4);
    let id = header(&requests[0].1, "webhook-id");
    assert!(requests.iter().all(|(_, r)| header(r, "webhook-id") == id));
    assert!(requests.iter().all(|(_, r)| r.body == requests[0].1.body));
    assert!(
        requests
            .iter()
            .all(|(_, r)| r.headers.get("webhook-signature").is_none()),
        "no secret, no signature"
    );
    let row = status_of(&workspace, id);
    assert_eq!(row["status"], "delivered");
    assert_eq!(row["attempts"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_waits_at_least_its_retry_after() {
    let hook = ScriptedReceiver::start(
        "/hook",
        vec![ResponseTemplate::new(429).insert_header("retry-after", "2")],
        ResponseTemplate::new(204),
    )
    .await;
    // Backoff alone would retry after 100–200 ms.
    let workspace = Workspace::new(&hook_config(&hook.url(), ""));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let requests = hook.wait_for_requests(2).await;
    daemon.stop();
    let waited = requests[1].0 - requests[0].0;
    assert!(waited >= Duration::from_secs(2), "retried after {waited:?}");
    assert_eq!(
        header(&requests[0].1, "webhook-id"),
        header(&requests[1].1, "webhook-id")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_a_failure_and_is_never_followed() {
    let hook = ScriptedReceiver::start(
        "/hook",
        Vec::new(),
        ResponseTemplate::new(302).insert_header("location", "/elsewhere"),
    )
    .await;
    let workspace = Workspace::new(&hook_config(&hook.url(), ""));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    hook.wait_for_requests(1).await;
    wait_for("the delivery to be dead", Duration::from_secs(20), || {
        workspace
            .deliveries()
            .first()
            .is_some_and(|d| d["status"] == "dead")
    });
    daemon.stop();
    assert_eq!(hook.requests().len(), 1, "a 3xx is not retried");
    let all = hook.server.received_requests().await.unwrap();
    assert!(
        all.iter().all(|r| r.url.path() != "/elsewhere"),
        "the Location was followed"
    );
    let listed = workspace.command(&["deliveries"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("dead") && text.contains("HTTP status 302"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_failing_past_max_age_is_dead() {
    let hook = ScriptedReceiver::start("/hook", Vec::new(), ResponseTemplate::new(503)).await;
    let delivery = "[delivery]\nbackoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\ntimeout = \"5s\"\nmax_age = \"1s\"\n";
    let workspace = Workspace::new(&hook_config(&hook.url(), delivery));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    wait_for("the delivery to be dead", Duration::from_secs(20), || {
        workspace
            .deliveries()
            .first()
            .is_some_and(|d| d["status"] == "dead")
    });
    let attempts = hook.requests().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    daemon.stop();
    assert!(attempts >= 2, "retried before giving up: {attempts}");
    assert_eq!(hook.requests().len(), attempts, "nothing sent once dead");
}

#[tokio::test(flavor = "multi_thread")]
async fn gone_disables_the_receiver_until_a_retry_which_keeps_the_id() {
    let hook = ScriptedReceiver::start(
        "/hook",
        vec![ResponseTemplate::new(410)],
        ResponseTemplate::new(200),
    )
    .await;
    let workspace = Workspace::new(&hook_config(&hook.url(), ""));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let first = hook.wait_for_requests(1).await;
    let id = header(&first[0].1, "webhook-id").to_string();
    wait_for("the delivery to be dead", Duration::from_secs(20), || {
        status_of(&workspace, &id)["status"] == "dead"
    });
    // A new hit for the disabled receiver is stored and queued, but not sent.
    workspace.append_tickets(&[TICKET_2]);
    wait_for(
        "the second delivery to be queued",
        Duration::from_secs(20),
        || workspace.deliveries().len() == 2,
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(hook.requests().len(), 1, "a disabled receiver gets nothing");
    let listed = workspace.command(&["deliveries"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("receiver hook disabled since"), "{text}");
    assert!(text.contains(&id), "{text}");
    daemon.stop();

    let retried = workspace.command(&["deliveries", "retry", &id]);
    assert_eq!(retried.status.code(), Some(0));
    let missing = workspace.command(&["deliveries", "retry", "msg_nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no dead delivery"));

    let daemon = workspace.start();
    let all = hook.wait_for_requests(3).await;
    wait_for("both delivered", Duration::from_secs(20), || {
        workspace
            .deliveries()
            .iter()
            .all(|d| d["status"] == "delivered")
    });
    daemon.stop();
    let resent: Vec<_> = all[1..]
        .iter()
        .map(|(_, r)| header(r, "webhook-id").to_string())
        .collect();
    assert!(resent.contains(&id), "the retry keeps the id: {resent:?}");
    assert!(
        all.iter()
            .filter(|(_, r)| header(r, "webhook-id") == id)
            .all(|(_, r)| r.body == first[0].1.body),
        "the retry sends the same body"
    );
    assert_eq!(hook.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_during_a_send_resends_it_with_the_same_id_after_restart() {
    let hook = ScriptedReceiver::start(
        "/hook",
        vec![ResponseTemplate::new(200).set_delay(Duration::from_secs(30))],
        ResponseTemplate::new(200),
    )
    .await;
    let delivery =
        "[delivery]\nbackoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\ntimeout = \"60s\"\n";
    let workspace = Workspace::new(&hook_config(&hook.url(), delivery));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let first = hook.wait_for_requests(1).await;
    let status = daemon.signal(Signal::SIGKILL);
    assert_eq!(status.code(), None, "killed, not exited");

    let daemon = workspace.start();
    let all = hook.wait_for_requests(2).await;
    wait_for("delivered", Duration::from_secs(20), || {
        workspace
            .deliveries()
            .first()
            .is_some_and(|d| d["status"] == "delivered")
    });
    daemon.stop();
    assert_eq!(
        header(&all[1].1, "webhook-id"),
        header(&first[0].1, "webhook-id")
    );
    assert_eq!(all[1].1.body, first[0].1.body);
    assert_eq!(hook.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_delivery_raises_an_operator_alert_through_the_other_receivers() {
    let hook = ScriptedReceiver::start("/hook", Vec::new(), ResponseTemplate::new(404)).await;
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n\n[[routes]]\nreceivers = [\"hook\", \"f\"]\n",
        hook.url()
    ));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let alerts = workspace.path("alerts.jsonl");
    wait_for("the operator alert", Duration::from_secs(20), || {
        std::fs::read_to_string(&alerts)
            .unwrap_or_default()
            .lines()
            .count()
            >= 2
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    daemon.stop();

    assert_eq!(
        hook.requests().len(),
        1,
        "the operator alert does not go to the failing receiver"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let operator = lines.iter().find(|l| l["type"] == "operator").unwrap();
    let note = operator["note"].as_str().unwrap();
    assert!(
        note.contains("receiver hook") && note.contains("HTTP status 404"),
        "{note}"
    );
    assert_eq!(
        operator["hits"][0]["post"]["id"], "T-1",
        "it names what was not delivered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_the_whole_receiver_not_just_one_alert() {
    let hook = ScriptedReceiver::start(
        "/hook",
        vec![ResponseTemplate::new(429).insert_header("retry-after", "2")],
        ResponseTemplate::new(204),
    )
    .await;
    let workspace = Workspace::new(&hook_config(&hook.url(), ""));
    // Two brands: two alerts due at once for the same receiver.
    workspace.append_tickets(&[TICKET_1, TICKET_2]);
    let daemon = workspace.start();
    let requests = hook.wait_for_requests(3).await;
    daemon.stop();
    let ids: Vec<&str> = requests
        .iter()
        .map(|(_, r)| header(r, "webhook-id"))
        .collect();
    assert_ne!(ids[0], ids[1], "the second request is the other alert");
    let waited = requests[1].0 - requests[0].0;
    assert!(
        waited >= Duration::from_secs(2),
        "sent {waited:?} after the 429"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_without_retry_after_is_probed_not_hammered() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    const PENDING: usize = 100;
    let down = Arc::new(AtomicBool::new(true));
    // Every webhook id the failing receiver accepted, in order.
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let (flag, ids) = (Arc::clone(&down), Arc::clone(&accepted));
    let failing = ScriptedReceiver::start_with("/down", move |_, request| {
        if flag.load(Ordering::SeqCst) {
            return ResponseTemplate::new(503);
        }
        ids.lock()
            .unwrap()
            .push(header(request, "webhook-id").to_string());
        ResponseTemplate::new(200)
    })
    .await;
    let healthy = ScriptedReceiver::start("/up", Vec::new(), ResponseTemplate::new(200)).await;
    let workspace = Workspace::new(&format!(
        "[delivery]\nbackoff_initial = \"200ms\"\nbackoff_max = \"1s\"\ntimeout = \"5s\"\n\
         [route_defaults]\ngroup_wait = \"0s\"\ngroup_by = [\"source\"]\n{TICKETS_SOURCE}\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"down\"\nurl = \"{}\"\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"up\"\nurl = \"{}\"\n\
         [[routes]]\nreceivers = [\"down\", \"up\"]\n",
        failing.url(),
        healthy.url()
    ));
    // One source each: one group, so one alert per ticket and receiver.
    let tickets: Vec<String> = (0..PENDING)
        .map(|i| format!(r#"{{"source":"desk{i}","id":"T-{i}","text":"Turkcell faturam {i}"}}"#))
        .collect();
    workspace.append_tickets(&tickets.iter().map(String::as_str).collect::<Vec<_>>());
    let daemon = workspace.start();

    // The outage: the healthy receiver gets all its alerts meanwhile.
    let first_failure = failing.wait_for_requests(1).await[0].0;
    healthy.wait_for_requests(PENDING).await;
    let outage = Duration::from_secs(4);
    tokio::time::sleep(outage.saturating_sub(first_failure.elapsed())).await;
    let during = failing.requests().len();
    down.store(false, Ordering::SeqCst);
    let healthy_during = healthy.requests().len();

    // Recovery: every alert arrives once.
    crate::support::wait_for_async("every alert delivered", Duration::from_secs(30), || async {
        accepted.lock().unwrap().len() >= PENDING
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    daemon.stop();

    eprintln!("requests to the failing receiver during a {outage:?} outage: {during}");
    assert!(during < 30, "{during} requests during the outage");
    assert_eq!(
        healthy_during, PENDING,
        "the healthy receiver was not held up"
    );
    let mut ids = accepted.lock().unwrap().clone();
    assert_eq!(ids.len(), PENDING, "delivered once each");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), PENDING, "no alert accepted twice");
    let rows =
        workspace.json_lines(&["deliveries", "--status", "all", "--json", "--limit", "1000"]);
    let delivered: Vec<&str> = rows
        .iter()
        .filter(|d| d["receiver"] == "down" && d["status"] == "delivered")
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(delivered.len(), PENDING);
    assert!(
        delivered
            .iter()
            .all(|id| ids.binary_search(&id.to_string()).is_ok())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_send_records_its_cause_not_only_error_sending_request() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let slow = ScriptedReceiver::start(
        "/hook",
        vec![],
        ResponseTemplate::new(200).set_delay(Duration::from_secs(10)),
    )
    .await;
    let workspace = Workspace::new(&format!(
        "[delivery]\nbackoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\ntimeout = \"1s\"\n{TICKETS_SOURCE}\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"refused\"\nurl = \"http://127.0.0.1:{closed_port}/hook\"\n\n\
         [[receivers]]\nkind = \"slack\"\nname = \"slow\"\nurl = \"{}\"\n\n\
         [[routes]]\nreceivers = [\"refused\", \"slow\"]\n",
        slow.url()
    ));
    workspace.append_tickets(&[TICKET_1]);
    let daemon = workspace.start();
    let error_of = |receiver: &str| {
        workspace
            .deliveries()
            .into_iter()
            .find(|d| d["receiver"] == receiver && !d["last_error"].is_null())
            .map(|d| d["last_error"].as_str().unwrap().to_string())
    };
    wait_for("both failures recorded", Duration::from_secs(20), || {
        error_of("refused").is_some() && error_of("slow").is_some()
    });
    daemon.stop();
    assert_eq!(
        error_of("refused").unwrap(),
        "request failed: connection refused"
    );
    // The worker's limit or the client's, whichever notices first: both say how long.
    let slow = error_of("slow").unwrap();
    assert!(slow.contains("timed out after 1."), "{slow}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_as_the_cause() {
    let (acceptor, _) = crate::smtp_server::self_signed_acceptor();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        if let Ok((stream, _)) = listener.accept().await {
            // The client gives up during the handshake.
            let _ = acceptor.accept(stream).await;
        }
    });
    let client = mentiond::http::client("mentiond-test", Duration::from_secs(5), false).unwrap();
    let started = std::time::Instant::now();
    let err = client
        .post(format!("https://127.0.0.1:{port}/hook"))
        .send()
        .await
        .unwrap_err();
    let text = mentiond::http::describe(&err, started.elapsed());
    assert!(text.starts_with("TLS: certificate not trusted: "), "{text}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_that_refuses_then_hangs_then_answers_503_delivers_everything_once() {
    use std::sync::{Arc, Mutex};

    // Refused: nothing listens on the port until the receiver comes up on it.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let url = format!("http://127.0.0.1:{port}/hook");
    let healthy = ScriptedReceiver::start("/up", Vec::new(), ResponseTemplate::new(200)).await;
    let workspace = Workspace::new(&format!(
        "[delivery]\nbackoff_initial = \"100ms\"\nbackoff_max = \"400ms\"\ntimeout = \"500ms\"\n\
         {TICKETS_SOURCE}\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"hook\"\nurl = \"{url}\"\n\
         [[receivers]]\nkind = \"webhook\"\nname = \"up\"\nurl = \"{}\"\n\
         [[routes]]\nreceivers = [\"hook\", \"up\"]\n",
        healthy.url()
    ));
    workspace.append_tickets(&[TICKET_1, TICKET_2]);
    let daemon = workspace.start();
    // The other receiver is not held up by the refused one.
    healthy.wait_for_requests(2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let refused_log = daemon.log_text();

    // Up again on the same port: two answers hang past the timeout, then 503 with
    // `Retry-After: 1`, then 503 without, then success.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    let log = Arc::new(Mutex::new(Vec::<(std::time::Instant, String, u16)>::new()));
    let recorder = Arc::clone(&log);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(move |request: &wiremock::Request| {
            let mut log = recorder.lock().unwrap();
            let (status, template) = match log.len() {
                0 | 1 => (
                    0,
                    ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
                ),
                2 => (
                    503,
                    ResponseTemplate::new(503).insert_header("Retry-After", "1"),
                ),
                3 => (503, ResponseTemplate::new(503)),
                _ => (200, ResponseTemplate::new(200)),
            };
            log.push((
                std::time::Instant::now(),
                header(request, "webhook-id").to_string(),
                status,
            ));
            template
        })
        .mount(&server)
        .await;
    wait_for(
        "both alerts delivered to the recovered receiver",
        Duration::from_secs(30),
        || {
            workspace
                .deliveries()
                .iter()
                .filter(|d| d["receiver"] == "hook" && d["status"] == "delivered")
                .count()
                == 2
        },
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    daemon.stop();

    assert!(refused_log.contains("onnection refused"), "{refused_log}");
    let log = log.lock().unwrap().clone();
    // Accepted once each, and never sent again after its success.
    let accepted: Vec<&String> = log
        .iter()
        .filter(|(_, _, s)| *s == 200)
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(accepted.len(), 2, "{log:?}");
    assert_ne!(accepted[0], accepted[1]);
    // `Retry-After: 1` held the next request back a second.
    let gap = log[3].0 - log[2].0;
    assert!(
        gap >= Duration::from_millis(950),
        "{gap:?} after Retry-After: 1"
    );
    // A bounded rate: the hanging answers were waited out, not multiplied.
    assert!(log.len() <= 8, "{} requests: {log:?}", log.len());
    assert_eq!(
        healthy.requests().len(),
        2,
        "the healthy receiver got each once"
    );
}
