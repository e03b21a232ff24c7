//! Unit tests of the console's settings and sessions.

use super::*;

fn table(text: &str) -> Map<String, Value> {
    let value: toml::Value = toml::from_str(text).unwrap();
    serde_json::to_value(value)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn defaults() -> Map<String, Value> {
    table(
        "enabled = true\nsession_ttl = \"12h\"\nreports_dir = \"\"\nsecure_cookies = false\nlogin_attempts = 5\nlogin_window = \"15m\"\n",
    )
}

#[test]
fn console_settings_read_users_and_default_the_reports_dir() {
    let hash = hash_password("pw").unwrap();
    let user = table(&format!(
        "name = \"ayse\"\npassword_hash = \"{hash}\"\ndisplay_name = \"Ayşe\"\nteam = \"care\"\n"
    ));
    let settings =
        ConsoleSettings::parse(defaults(), vec![Some(user)], PathBuf::from("/r")).unwrap();
    assert_eq!(settings.reports_dir, PathBuf::from("/r"));
    assert_eq!(settings.session_ttl, Duration::from_secs(12 * 3600));
    assert_eq!(settings.users[0].display_name.as_deref(), Some("Ayşe"));
    let debug = format!("{settings:?}");
    assert!(!debug.contains(&hash), "the hash never prints: {debug}");
}

#[test]
fn console_settings_problems_name_their_key() {
    let mut options = defaults();
    options.insert("session_ttl".into(), Value::String("soon".into()));
    options.insert("colour".into(), Value::String("red".into()));
    let users = vec![
        Some(table("name = \"ayse\"\npassword_hash = \"hunter2\"\n")),
        Some(table("password_hash = \"x\"\nrole = \"admin\"\n")),
    ];
    let problems = ConsoleSettings::parse(options, users, PathBuf::from("/r")).unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "session_ttl",
        "colour",
        "users[0].password_hash",
        "users[1].name",
        "users[1].role",
    ] {
        assert!(keys.contains(&expected), "{expected} missing in {keys:?}");
    }
}

/// Settings with `users` (name, hash) and the shared `token`.
fn with_users(users: &[(&str, &str)], token: Option<&str>) -> ConsoleSettings {
    let mut options = defaults();
    if let Some(token) = token {
        options.insert("token".into(), Value::String(token.into()));
    }
    let users = users
        .iter()
        .map(|(name, hash)| {
            Some(table(&format!(
                "name = \"{name}\"\npassword_hash = \"{hash}\"\n"
            )))
        })
        .collect();
    ConsoleSettings::parse(options, users, PathBuf::from("/r")).unwrap()
}

#[test]
fn a_reload_ends_the_sessions_of_removed_users_changed_passwords_and_a_changed_token() {
    let (a, b, c) = (
        hash_password("a").unwrap(),
        hash_password("b").unwrap(),
        hash_password("c").unwrap(),
    );
    let old = with_users(&[("ayse", &a), ("mehmet", &b)], Some("t0ken-one"));
    let same = with_users(&[("ayse", &a), ("mehmet", &b)], Some("t0ken-one"));
    assert!(sessions_to_end(&old, &same).is_empty(), "nothing changed");

    // Removed, and a new user added: only the removed one ends.
    let new = with_users(&[("ayse", &a), ("zeynep", &c)], Some("t0ken-one"));
    assert_eq!(sessions_to_end(&old, &new), ["mehmet"]);

    // A changed password hash ends the user's sessions; other fields do not.
    let new = with_users(&[("ayse", &c), ("mehmet", &b)], Some("t0ken-one"));
    assert_eq!(sessions_to_end(&old, &new), ["ayse"]);
    let mut renamed = same.clone();
    renamed.users[0].display_name = Some("Ayşe".into());
    renamed.session_ttl = Duration::from_secs(60);
    assert!(sessions_to_end(&old, &renamed).is_empty());

    // The shared token: changed or removed ends its sessions; added ends none.
    let changed = with_users(&[("ayse", &a), ("mehmet", &b)], Some("t0ken-two"));
    assert_eq!(sessions_to_end(&old, &changed), ["token"]);
    let removed = with_users(&[("ayse", &a), ("mehmet", &b)], None);
    assert_eq!(sessions_to_end(&old, &removed), ["token"]);
    assert!(sessions_to_end(&removed, &old).is_empty());

    // Everyone gone at once.
    let empty = with_users(&[], None);
    assert_eq!(sessions_to_end(&old, &empty), ["ayse", "mehmet", "token"]);
}
