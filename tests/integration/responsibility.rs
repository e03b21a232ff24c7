//! Responsibility end to end: a reply from the brand's own handle acknowledges the hit
//! it answers, and `mentiond ack` acknowledges one by hand, once.

use std::time::Duration;

use crate::support::{TICKETS_SOURCE, Workspace, wait_for};

#[test]
fn own_handle_replies_and_the_ack_command_acknowledge_hits() {
    let workspace = Workspace::new(&format!(
        "{TICKETS_SOURCE}\n[[receivers]]\nkind = \"file\"\nname = \"f\"\npath = \"{{dir}}/alerts.jsonl\"\n[[routes]]\nreceivers = [\"f\"]\n"
    ));
    workspace.append_tickets(&[
        r#"{"source":"x","id":"c1","author":{"handle":"ayse"},"text":"Turkcell faturam yanlış"}"#,
        r#"{"source":"x","id":"c2","author":{"handle":"ali"},"text":"Turkcell çekmiyor"}"#,
    ]);
    let daemon = workspace.start();
    wait_for("two hits", Duration::from_secs(20), || {
        workspace.hits().len() == 2
    });
    workspace.append_tickets(&[
        r#"{"source":"x","id":"r1","in_reply_to":"c1","author":{"handle":"TurkcellHizmet"},"text":"Merhaba, DM'den yazar mısınız?"}"#,
    ]);
    wait_for(
        "the reply to acknowledge c1",
        Duration::from_secs(20),
        || {
            workspace
                .hits()
                .iter()
                .any(|h| h["post"]["id"] == "c1" && h["acked_by"] == "@TurkcellHizmet")
        },
    );
    daemon.stop();

    let hits = workspace.hits();
    let open = hits.iter().find(|h| h["post"]["id"] == "c2").unwrap();
    assert!(open["acked_at"].is_null(), "only the answered post: {open}");
    let id = open["id"].to_string();
    let acked = workspace.command(&["ack", &id, "--by", "ayse-care"]);
    assert_eq!(acked.status.code(), Some(0));
    let text = String::from_utf8_lossy(&acked.stdout);
    assert!(text.contains("acknowledged by ayse-care"), "{text}");
    let again = workspace.command(&["ack", &id, "--by", "someone-else"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already acknowledged by ayse-care"));
    let missing = workspace.command(&["ack", "99999"]);
    assert_eq!(missing.status.code(), Some(1));
    let hits = workspace.hits();
    let c2 = hits.iter().find(|h| h["post"]["id"] == "c2").unwrap();
    assert_eq!(c2["acked_by"], "ayse-care");
}
