//! Secrets in configuration: a value can be given inline (`secret`), through an
//! environment variable (`secret_env`), or in a file (`secret_file`, for systemd's
//! `LoadCredential=`). The result is a [`SecretString`], which never prints.

use std::path::PathBuf;

use secrecy::SecretString;
use serde_json::{Map, Value};

use super::FieldError;

/// Removes `key`, `{key}_env` and `{key}_file` from `options` and resolves the secret
/// they describe; at most one of the three may be set.
pub fn take_secret(
    options: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<SecretString>, FieldError> {
    let env_key = format!("{key}_env");
    let file_key = format!("{key}_file");
    let inline = take_string(options, key)?;
    let env = take_string(options, &env_key)?;
    let file = take_string(options, &file_key)?;
    match (inline, env, file) {
        (None, None, None) => Ok(None),
        (Some(value), None, None) => Ok(Some(SecretString::from(value))),
        (None, Some(var), None) => match std::env::var(&var) {
            Ok(value) if !value.is_empty() => Ok(Some(SecretString::from(value))),
            _ => Err(FieldError::new(
                env_key,
                format!("environment variable `{var}` is not set"),
            )),
        },
        (None, None, Some(path)) => {
            let path = expand_credentials_dir(&path);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(SecretString::from(
                    text.trim_end_matches(['\r', '\n']).to_string(),
                ))),
                Err(err) => Err(FieldError::new(
                    file_key,
                    format!("cannot read {}: {err}", path.display()),
                )),
            }
        }
        _ => Err(FieldError::new(
            key,
            format!("set only one of `{key}`, `{key}_env`, `{key}_file`"),
        )),
    }
}

/// Compares a presented secret with an expected one in time independent of where
/// they differ (a bearer token, say).
pub fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn take_string(options: &mut Map<String, Value>, key: &str) -> Result<Option<String>, FieldError> {
    match options.remove(key) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(FieldError::new(key, "expected a string")),
    }
}

/// Expands `$CREDENTIALS_DIRECTORY` / `${CREDENTIALS_DIRECTORY}`, which systemd sets
/// for units using `LoadCredential=`.
fn expand_credentials_dir(path: &str) -> PathBuf {
    let dir = std::env::var("CREDENTIALS_DIRECTORY").unwrap_or_default();
    PathBuf::from(
        path.replace("${CREDENTIALS_DIRECTORY}", &dir)
            .replace("$CREDENTIALS_DIRECTORY", &dir),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    fn options(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret(b"t0ken", b"t0ken"));
        assert!(!same_secret(b"t0kem", b"t0ken"));
        assert!(!same_secret(b"t0ke", b"t0ken"));
        assert!(!same_secret(b"", b"t0ken"));
    }

    #[test]
    fn inline_file_and_env_forms() {
        let mut inline = options(json!({"secret": "whsec_abc", "url": "x"}));
        let secret = take_secret(&mut inline, "secret").unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "whsec_abc");
        assert!(!inline.contains_key("secret") && inline.contains_key("url"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "from-file\n").unwrap();
        let mut file = options(json!({"secret_file": path.to_str().unwrap()}));
        let secret = take_secret(&mut file, "secret").unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "from-file");

        let mut env = options(json!({"secret_env": "MENTIOND_TEST_SURELY_UNSET_VAR"}));
        let err = take_secret(&mut env, "secret").unwrap_err();
        assert_eq!(err.key, "secret_env");
    }

    #[test]
    fn two_forms_at_once_is_an_error_and_debug_hides_the_value() {
        let mut both = options(json!({"secret": "a", "secret_file": "/nonexistent"}));
        assert_eq!(take_secret(&mut both, "secret").unwrap_err().key, "secret");
        let mut one = options(json!({"secret": "hunter2"}));
        let secret = take_secret(&mut one, "secret").unwrap().unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
