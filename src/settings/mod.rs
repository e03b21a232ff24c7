//! Settings plumbing shared by every module that owns a piece of configuration: located
//! problems ([`Problem`], [`ConfigError`]), problems relative to one options table
//! ([`FieldError`]), the options parser, humane durations and secrets.
//!
//! A leaf: it imports nothing from the crate, so sources, receivers, routes and the
//! keywords can each parse their own settings without depending on `config`, which only
//! layers the files and assembles the result.

mod locate;
mod secret;

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use locate::{TomlSource, line_of_offset};
pub use secret::take_secret;

/// One configuration problem, located as precisely as possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File path, `environment variable NAME`, or `built-in defaults`.
    pub file: String,
    /// 1-based line in `file`, when it is a file that sets the key.
    pub line: Option<usize>,
    /// Dotted key path (`sources[1].interval`).
    pub key: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}: {}", self.file, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.message),
        }
    }
}

/// Every problem found while loading configuration or keywords.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order where possible.
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// Wraps a list of problems.
    pub fn new(problems: Vec<Problem>) -> ConfigError {
        ConfigError { problems }
    }

    /// Wraps a single problem.
    pub fn one(problem: Problem) -> ConfigError {
        ConfigError {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// A problem with one key of a kind-specific options table, relative to that table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Key inside the table (`url`, `secret_file`, `urls[2]`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Deserializes a kind's options table, naming the offending key on error.
pub fn parse_options<T: DeserializeOwned>(options: Map<String, Value>) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(Value::Object(options)).map_err(|err| {
        let key = err.path().to_string();
        let message = err.into_inner().to_string();
        // serde reports unknown and missing fields at the table itself; name the field.
        let key = match (key.as_str(), field_named_in(&message)) {
            (".", Some(field)) | ("", Some(field)) => field.to_string(),
            _ => key,
        };
        FieldError::new(key, message)
    })
}

/// A setting's value that could not be understood; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl From<InvalidValue> for String {
    fn from(invalid: InvalidValue) -> String {
        invalid.0
    }
}

/// Parses a humane duration (`"90s"`, `"5m"`, `"1h 30m"`).
pub fn parse_duration(text: &str) -> Result<Duration, InvalidValue> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        InvalidValue(format!(
            "invalid duration `{text}` ({err}); write e.g. \"30s\", \"5m\", \"1h\""
        ))
    })
}

/// A duration as a settings file may write it: text (`"5m"`) or whole seconds.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum DurationSetting {
    /// Humane text, parsed by [`parse_duration`].
    Text(String),
    /// Whole seconds.
    Seconds(u64),
}

impl DurationSetting {
    /// The duration, or what is wrong with it.
    pub fn to_duration(&self) -> Result<Duration, InvalidValue> {
        match self {
            DurationSetting::Seconds(secs) => Ok(Duration::from_secs(*secs)),
            DurationSetting::Text(text) => parse_duration(text),
        }
    }
}

/// Reads a duration written as text (`"5m"`) or as whole seconds.
pub fn duration_value(value: &Value) -> Result<Duration, InvalidValue> {
    match value {
        Value::String(text) => parse_duration(text),
        Value::Number(n) => n
            .as_u64()
            .map(Duration::from_secs)
            .ok_or_else(|| InvalidValue(format!("invalid duration {n}"))),
        other => Err(InvalidValue(format!(
            "expected a duration such as \"5m\", found {other}"
        ))),
    }
}

/// The field an "unknown field `x`" or "missing field `x`" message names.
fn field_named_in(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

/// Declares a plug-in family (source kinds, receiver kinds) in one list: each kind's
/// `kind` name, its settings type and parser, and its constructor. From that one list
/// it generates the settings enum, `KINDS` (so an unknown-kind error always names every
/// kind), `parse`, `kind_name` and `build`, so adding a kind is one entry.
macro_rules! kind_registry {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident ($what:literal) {
            build($ctx:ident: $Ctx:ty) -> $Out:ty;
            $(
                $(#[$doc:meta])*
                $Variant:ident($Settings:ty) = $name:literal,
                    parse: $parse:expr,
                    build: $build:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        pub enum $Enum {
            $( $(#[$doc])* $Variant($Settings), )*
        }

        impl $Enum {
            /// Every accepted `kind` value.
            pub const KINDS: &'static [&'static str] = &[$($name),*];

            /// Validates the options of a table of the given `kind`.
            pub fn parse(
                kind: &str,
                options: serde_json::Map<String, serde_json::Value>,
            ) -> Result<$Enum, $crate::settings::FieldError> {
                match kind {
                    $(
                        $name => {
                            let parse: fn(
                                serde_json::Map<String, serde_json::Value>,
                            ) -> Result<$Settings, $crate::settings::FieldError> = $parse;
                            parse(options).map($Enum::$Variant)
                        }
                    )*
                    other => Err($crate::settings::FieldError::new(
                        "kind",
                        format!(
                            "unknown {} kind `{other}`, expected one of: {}",
                            $what,
                            Self::KINDS.join(", ")
                        ),
                    )),
                }
            }

            /// The `kind` value this was parsed from.
            pub fn kind_name(&self) -> &'static str {
                match self {
                    $( $Enum::$Variant(_) => $name, )*
                }
            }

            /// Builds the running plug-in of this kind.
            pub fn build(&self, name: String, $ctx: $Ctx) -> $Out {
                match self {
                    $(
                        $Enum::$Variant(settings) => {
                            let build: fn(String, &$Settings, $Ctx) -> $Out = $build;
                            build(name, settings, $ctx)
                        }
                    )*
                }
            }
        }
    };
}
pub(crate) use kind_registry;
