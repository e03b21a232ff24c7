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
pub use secret::{same_secret, take_secret};

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
        let message = err.inner().to_string();
        FieldError::new(ErrorPlace::of(err.path(), &message).key, message)
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

/// Deserializes one table (a `[poll]`, one `[[sources]]` entry, one `[[brand]]`) and
/// reports every wrong-typed, unknown or missing key in it, not only the first: each
/// offending key is set to its value in `fallback` (or else removed) and the table is
/// read again. Returns the table (`None` when it cannot be repaired, e.g. a required key
/// has the wrong type and `fallback` has none) and every problem, relative to the table.
pub fn deserialize_table<T: DeserializeOwned>(
    mut value: Value,
    fallback: Option<&Value>,
) -> (Option<T>, Vec<FieldError>) {
    let mut errors: Vec<FieldError> = Vec::new();
    // Each round repairs one key, so a table cannot need more rounds than it has values.
    for _ in 0..=count_values(&value) {
        let mut unknown = Vec::new();
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let result: Result<T, _> =
            serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&value, &mut record));
        let err = match result {
            Ok(table) => {
                errors.extend(
                    unknown
                        .into_iter()
                        .map(|key| FieldError::new(key, "unknown key")),
                );
                return (Some(table), errors);
            }
            Err(err) => err,
        };
        let message = err.inner().to_string();
        let place = ErrorPlace::of(err.path(), &message);
        // A repair that leads to a second error at the same key (a required key removed)
        // says nothing new.
        if !errors.iter().any(|e| e.key == place.key) {
            errors.push(FieldError::new(place.key.clone(), message));
        }
        if !repair(&mut value, &place.pointer, fallback) {
            break;
        }
    }
    (None, errors)
}

/// Where a deserialization error points: the dotted key (`terms`, `urls[2]`) and the
/// same place as a JSON pointer (`/terms`, `/urls/2`).
struct ErrorPlace {
    key: String,
    pointer: String,
}

impl ErrorPlace {
    fn of(path: &serde_path_to_error::Path, message: &str) -> ErrorPlace {
        let mut place = ErrorPlace {
            key: String::new(),
            pointer: String::new(),
        };
        let mut last = None;
        for segment in path.iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    place.key.push_str(&format!("[{index}]"));
                    place.pointer.push_str(&format!("/{index}"));
                    last = None;
                }
                serde_path_to_error::Segment::Map { key } => {
                    place.push_field(key);
                    last = Some(key.as_str());
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        // serde reports a missing field at the table itself; name the field.
        if let Some(field) = field_named_in(message)
            && last != Some(field)
        {
            place.push_field(field);
        }
        place
    }

    fn push_field(&mut self, field: &str) {
        if !self.key.is_empty() {
            self.key.push('.');
        }
        self.key.push_str(field);
        self.pointer.push('/');
        self.pointer
            .push_str(&field.replace('~', "~0").replace('/', "~1"));
    }
}

/// Sets the value at `pointer` to the fallback's, or removes it, or else repairs the
/// enclosing value; false when nothing is left to repair.
fn repair(value: &mut Value, pointer: &str, fallback: Option<&Value>) -> bool {
    let mut pointer = pointer;
    loop {
        if let Some(default) = fallback.and_then(|f| f.pointer(pointer))
            && value.pointer(pointer) != Some(default)
        {
            if pointer.is_empty() {
                *value = default.clone();
                return true;
            }
            if let Some((parent, field)) = split_pointer(pointer)
                && let Some(Value::Object(table)) = value.pointer_mut(parent)
            {
                table.insert(field, default.clone());
                return true;
            }
        }
        let Some((parent, field)) = split_pointer(pointer) else {
            return false;
        };
        if let Some(Value::Object(table)) = value.pointer_mut(parent)
            && table.remove(&field).is_some()
        {
            return true;
        }
        pointer = parent;
    }
}

/// `/a/b~1c` → (`/a`, `b/c`); `None` for the whole value.
fn split_pointer(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn count_values(value: &Value) -> usize {
    match value {
        Value::Object(table) => 1 + table.values().map(count_values).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(count_values).sum::<usize>(),
        _ => 1,
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
#[derive(Debug, Clone)]
pub enum DurationSetting {
    /// Humane text, parsed by [`parse_duration`].
    Text(String),
    /// Whole seconds.
    Seconds(u64),
}

impl DurationSetting {
    /// The duration; when it is invalid (or zero though `positive` is asked), a
    /// problem at `key` joins `problems` and the result is meaningless.
    pub fn read(&self, key: &str, positive: bool, problems: &mut Vec<FieldError>) -> Duration {
        match self.to_duration() {
            Ok(duration) if positive && duration.is_zero() => {
                problems.push(FieldError::new(key, "must be longer than zero"));
                duration
            }
            Ok(duration) => duration,
            Err(message) => {
                problems.push(FieldError::new(key, message));
                Duration::ZERO
            }
        }
    }

    /// The duration, or what is wrong with it.
    pub fn to_duration(&self) -> Result<Duration, InvalidValue> {
        match self {
            DurationSetting::Seconds(secs) => Ok(Duration::from_secs(*secs)),
            DurationSetting::Text(text) => parse_duration(text),
        }
    }
}

impl<'de> serde::Deserialize<'de> for DurationSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DurationSetting;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"5m\" or a whole number of seconds")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<DurationSetting, E> {
                Ok(DurationSetting::Text(text.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<DurationSetting, E> {
                Ok(DurationSetting::Seconds(secs))
            }

            fn visit_i64<E: serde::de::Error>(self, secs: i64) -> Result<DurationSetting, E> {
                u64::try_from(secs)
                    .map(DurationSetting::Seconds)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(secs), &self))
            }
        }
        deserializer.deserialize_any(Visitor)
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
            build(name: $Name:ty, $ctx:ident: $Ctx:ty) -> $Out:ty;
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
            pub fn build(&self, name: $Name, $ctx: $Ctx) -> $Out {
                match self {
                    $(
                        $Enum::$Variant(settings) => {
                            let build: fn($Name, &$Settings, $Ctx) -> $Out = $build;
                            build(name, settings, $ctx)
                        }
                    )*
                }
            }
        }
    };
}
pub(crate) use kind_registry;
