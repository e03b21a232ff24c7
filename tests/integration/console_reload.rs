//! SIGHUP applies the console's `[[users]]`, shared token and settings in the running
//! daemon: a removed user's sessions end (401) while the others' stay, a user added
//! can log in, a changed password or token ends the sessions made with the old one,
//! and an invalid `[[users]]` entry is refused with its located problem while the old
//! users keep working.

use std::time::Duration;

use crate::console::{Browser, hash_password, post_login, start, ticket};
use crate::reload::{assert_problems_logged_like_check, reload};
use crate::support::{TICKETS_SOURCE, Workspace};

/// The daemon's configuration with `users` (name, PHC hash) and the shared `token`,
/// the rest always the same; `console` is appended to `[console]`.
fn config(users: &[(&str, &str)], token: &str, console: &str) -> String {
    let users: String = users
        .iter()
        .map(|(name, hash)| format!("[[users]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\n\n"))
        .collect();
    format!(
        "{TICKETS_SOURCE}\n[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"api-t0ken-secret\"\n\n\
         [console]\ntoken = \"{token}\"\n{console}\n{users}"
    )
}

async fn status(browser: &Browser) -> u16 {
    browser.get("/console/api/me").await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_ends_the_sessions_of_removed_users_and_changed_secrets_and_lets_new_users_in() {
    let (ayse, mehmet, zeynep) = (
        hash_password("ayse-pw"),
        hash_password("mehmet-pw"),
        hash_password("zeynep-pw"),
    );
    let workspace = Workspace::new(&config(
        &[("ayse", &ayse), ("mehmet", &mehmet)],
        "console-t0ken",
        "",
    ));
    let (daemon, base) = start(&workspace);
    let ayse_browser = Browser::login(&base, &[("name", "ayse"), ("password", "ayse-pw")]).await;
    let mehmet_browser =
        Browser::login(&base, &[("name", "mehmet"), ("password", "mehmet-pw")]).await;
    let token_browser = Browser::login(&base, &[("token", "console-t0ken")]).await;
    let mut mehmet_feed = mehmet_browser.events(None).await;
    let mut ayse_feed = ayse_browser.events(None).await;

    // mehmet removed, nothing else changed: only his session ends.
    workspace.write_config(&config(&[("ayse", &ayse)], "console-t0ken", ""));
    reload(&daemon, "configuration reloaded");
    assert_eq!(status(&mehmet_browser).await, 401);
    assert_eq!(status(&ayse_browser).await, 200);
    assert_eq!(status(&token_browser).await, 200);
    // His open live feed ends at the next change; hers carries it.
    workspace.append_tickets(&[&ticket("r1", "Turkcell faturam yine yanlış")]);
    assert!(mehmet_feed.ends_within(Duration::from_secs(10)).await);
    let event = ayse_feed.next(Duration::from_secs(10)).await;
    assert_eq!(event.map(|event| event.kind).as_deref(), Some("hit"));
    let log = daemon.log_text();
    assert!(log.contains("console sessions ended user=mehmet"), "{log}");
    assert!(!log.contains("console sessions ended user=ayse"), "{log}");
    assert!(!log.contains("console sessions ended user=token"), "{log}");
    assert!(!log.contains("take effect at restart"), "{log}");
    let refused = post_login(
        &base,
        &[("name", "mehmet"), ("password", "mehmet-pw")],
        true,
    )
    .await;
    assert_eq!(refused.status(), 401);

    // zeynep added: she can log in, and nobody else is logged out.
    workspace.write_config(&config(
        &[("ayse", &ayse), ("zeynep", &zeynep)],
        "console-t0ken",
        "",
    ));
    reload(&daemon, "configuration reloaded");
    let zeynep_browser =
        Browser::login(&base, &[("name", "zeynep"), ("password", "zeynep-pw")]).await;
    assert_eq!(status(&zeynep_browser).await, 200);
    assert_eq!(status(&ayse_browser).await, 200);
    assert_eq!(status(&token_browser).await, 200);

    // ayse's password and the shared token changed: the sessions made with the old
    // ones end, the new ones log in, zeynep stays.
    let ayse_new = hash_password("ayse-new-pw");
    workspace.write_config(&config(
        &[("ayse", &ayse_new), ("zeynep", &zeynep)],
        "new-t0ken",
        "",
    ));
    reload(&daemon, "configuration reloaded");
    assert_eq!(status(&ayse_browser).await, 401);
    assert_eq!(status(&token_browser).await, 401);
    assert_eq!(status(&zeynep_browser).await, 200);
    let old_token = post_login(&base, &[("token", "console-t0ken")], true).await;
    assert_eq!(old_token.status(), 401);
    let ayse_browser =
        Browser::login(&base, &[("name", "ayse"), ("password", "ayse-new-pw")]).await;
    Browser::login(&base, &[("token", "new-t0ken")]).await;

    // An invalid entry: refused with its located problem, the running users stay.
    let invalid = format!(
        "{}[[users]]\nname = \"deniz\"\npassword_hash = \"plaintext\"\n",
        config(&[("ayse", &ayse_new), ("zeynep", &zeynep)], "new-t0ken", "")
    );
    workspace.write_config(&invalid);
    reload(&daemon, "reload refused, the running configuration stays");
    let log = daemon.log_text();
    assert_problems_logged_like_check(&workspace, &log, "mentiond.toml");
    assert!(log.contains("users[2].password_hash"), "{log}");
    assert_eq!(status(&ayse_browser).await, 200);
    assert_eq!(status(&zeynep_browser).await, 200);
    let deniz = post_login(&base, &[("name", "deniz"), ("password", "plaintext")], true).await;
    assert_eq!(deniz.status(), 401);

    // Switching the console off waits for a restart, said in the warning.
    workspace.write_config(&config(
        &[("ayse", &ayse_new), ("zeynep", &zeynep)],
        "new-t0ken",
        "enabled = false\n",
    ));
    reload(&daemon, "configuration reloaded");
    let log = daemon.log_text();
    assert!(log.contains("console.enabled"), "{log}");
    assert!(log.contains("take effect at restart"), "{log}");
    assert_eq!(status(&ayse_browser).await, 200);
    daemon.stop();
}
