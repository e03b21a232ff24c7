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
