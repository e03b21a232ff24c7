//! `keywords.toml` → validated [`KeywordRules`]: the watch list the matcher compiles.
//!
//! Every problem is collected with its file, key and line; nothing here matches text.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::locate::{TomlSource, line_of_offset};
use super::{ConfigError, Problem};

/// The validated watch list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordRules {
    /// Brands in file order.
    pub brands: Vec<Brand>,
}

/// One watched brand (or a competitor of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    /// Display name, unique in the file; hits and routes refer to it.
    pub name: String,
    /// Team responsible for its mentions; routes match on it.
    pub team: Option<String>,
    /// Names and phrases, matched as whole words.
    pub terms: Vec<String>,
    /// Account handles, always starting with `@`.
    pub handles: Vec<String>,
    /// Hashtags, always starting with `#`.
    pub hashtags: Vec<String>,
    /// Spellings people really type (`turkcel`).
    pub misspellings: Vec<String>,
    /// A post containing any of these is not a hit for this brand.
    pub exclude: Vec<String>,
    /// Set on competitor entries: the brand this one is watched against.
    pub competitor_of: Option<String>,
    /// How pressing its hits are; `urgent` hits skip a route's `group_wait`.
    pub severity: Severity,
    /// The brand's own accounts, starting with `@`; a reply from one of them to a
    /// post acknowledges the brand's hit on that post.
    pub own_handles: Vec<String>,
}

/// How pressing a brand's hits are (`severity` in `[[brand]]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Grouped and held like any hit.
    #[default]
    Normal,
    /// Sent at once, even in quiet hours.
    Urgent,
}

impl Severity {
    /// Parses `normal` or `urgent`.
    pub fn parse(text: &str) -> Result<Severity, String> {
        match text {
            "normal" => Ok(Severity::Normal),
            "urgent" => Ok(Severity::Urgent),
            other => Err(format!(
                "unknown severity `{other}`, expected `normal` or `urgent`"
            )),
        }
    }

    /// `normal` or `urgent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Urgent => "urgent",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeywords {
    #[serde(default)]
    brand: Vec<RawBrand>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrand {
    name: String,
    team: Option<String>,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    handles: Vec<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    misspellings: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    competitor_of: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    own_handles: Vec<String>,
}

/// Reads and validates the keywords file at `path`.
pub fn load_keywords(path: &Path) -> Result<KeywordRules, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError::one(Problem {
            file: path.display().to_string(),
            line: None,
            key: "keywords".into(),
            message: format!("cannot read keywords file: {err}"),
        })
    })?;
    parse_keywords(path, &text)
}

/// Validates keywords `text` read from `path`, reporting every problem at once.
pub fn parse_keywords(path: &Path, text: &str) -> Result<KeywordRules, ConfigError> {
    let file = path.display().to_string();
    let raw: RawKeywords = toml::from_str(text).map_err(|err| {
        ConfigError::one(Problem {
            file: file.clone(),
            line: err.span().map(|span| line_of_offset(text, span.start)),
            key: "keywords".into(),
            message: err.message().to_string(),
        })
    })?;
    let source = TomlSource::new(path, text.to_string());
    let mut problems = Vec::new();
    let mut problem = |key: String, message: String| {
        problems.push(Problem {
            file: file.clone(),
            line: source.line_of_nearest(&key),
            key,
            message,
        });
    };
    if raw.brand.is_empty() {
        problem(
            "brand".into(),
            "no [[brand]] entries: nothing would ever match".into(),
        );
    }
    let mut seen = HashSet::new();
    let names: HashSet<String> = raw.brand.iter().map(|b| b.name.to_lowercase()).collect();
    let mut brands = Vec::with_capacity(raw.brand.len());
    for (index, raw) in raw.brand.into_iter().enumerate() {
        let key = |field: &str| format!("brand[{index}].{field}");
        if raw.name.trim().is_empty() {
            problem(key("name"), "must not be empty".into());
        } else if !seen.insert(raw.name.to_lowercase()) {
            problem(
                key("name"),
                format!("brand `{}` is defined twice", raw.name),
            );
        }
        if raw.terms.is_empty()
            && raw.handles.is_empty()
            && raw.hashtags.is_empty()
            && raw.misspellings.is_empty()
        {
            problem(
                key("terms"),
                "set at least one of `terms`, `handles`, `hashtags`, `misspellings`".into(),
            );
        }
        for (field, list) in [
            ("terms", &raw.terms),
            ("misspellings", &raw.misspellings),
            ("exclude", &raw.exclude),
        ] {
            if list.iter().any(|term| term.trim().is_empty()) {
                problem(key(field), "contains an empty term".into());
            }
        }
        let handles = prefixed(&raw.handles, '@');
        let hashtags = prefixed(&raw.hashtags, '#');
        let own_handles = prefixed(&raw.own_handles, '@');
        for (field, list) in [
            ("handles", &handles),
            ("hashtags", &hashtags),
            ("own_handles", &own_handles),
        ] {
            if let Some(bad) = list
                .iter()
                .find(|item| item.len() < 2 || item.chars().any(char::is_whitespace))
            {
                problem(key(field), format!("`{bad}` is not a valid {field} entry"));
            }
        }
        if let Some(of) = &raw.competitor_of
            && !names.contains(&of.to_lowercase())
        {
            problem(key("competitor_of"), format!("no brand named `{of}`"));
        }
        let severity = match raw.severity.as_deref().map(Severity::parse) {
            None => Severity::Normal,
            Some(Ok(severity)) => severity,
            Some(Err(message)) => {
                problem(key("severity"), message);
                Severity::Normal
            }
        };
        brands.push(Brand {
            name: raw.name.trim().to_string(),
            team: raw.team,
            terms: trimmed(raw.terms),
            handles,
            hashtags,
            misspellings: trimmed(raw.misspellings),
            exclude: trimmed(raw.exclude),
            competitor_of: raw.competitor_of,
            severity,
            own_handles,
        });
    }
    if problems.is_empty() {
        Ok(KeywordRules { brands })
    } else {
        Err(ConfigError::new(problems))
    }
}

fn trimmed(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.trim().to_string()).collect()
}

fn prefixed(list: &[String], prefix: char) -> Vec<String> {
    list.iter()
        .map(|item| {
            let item = item.trim();
            if item.starts_with(prefix) {
                item.to_string()
            } else {
                format!("{prefix}{item}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KeywordRules, ConfigError> {
        parse_keywords(Path::new("keywords.toml"), text)
    }

    #[test]
    fn shipped_keywords_file_is_valid() {
        let rules = load_keywords(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/keywords.toml"
        )))
        .unwrap();
        let names: Vec<_> = rules.brands.iter().map(|b| b.name.as_str()).collect();
        for brand in ["Turkcell", "Türk Telekom", "THY", "DenizBank", "Yapı Kredi"] {
            assert!(names.contains(&brand), "{brand} missing from {names:?}");
        }
        assert!(rules.brands.iter().any(|b| b.competitor_of.is_some()));
    }

    #[test]
    fn handles_and_hashtags_get_their_prefix() {
        let rules =
            parse("[[brand]]\nname = \"THY\"\nhandles = [\"THY\"]\nhashtags = [\"#thy\", \"turkishairlines\"]\n")
                .unwrap();
        assert_eq!(rules.brands[0].handles, ["@THY"]);
        assert_eq!(rules.brands[0].hashtags, ["#thy", "#turkishairlines"]);
    }

    #[test]
    fn every_problem_names_key_and_line() {
        let text = "[[brand]]\nname = \"A\"\nterms = [\"a\"]\n\n[[brand]]\nname = \"a\"\nterms = [\"\"]\nhandles = [\"@two words\"]\ncompetitor_of = \"Nobody\"\n";
        let err = parse(text).unwrap_err();
        let lines: Vec<_> = err
            .problems
            .iter()
            .map(|p| (p.key.as_str(), p.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("brand[1].name", Some(6)),
                ("brand[1].terms", Some(7)),
                ("brand[1].handles", Some(8)),
                ("brand[1].competitor_of", Some(9)),
            ]
        );
        assert!(err.to_string().contains("keywords.toml:6"));
    }

    #[test]
    fn unknown_key_and_syntax_errors_carry_a_line() {
        let err = parse("[[brand]]\nname = \"A\"\nterms = [\"a\"]\nteem = \"x\"\n").unwrap_err();
        assert_eq!(err.problems[0].line, Some(4));
        assert!(err.problems[0].message.contains("teem"));
        let err = parse("[[brand]]\nname = \"A\nterms = 1\n").unwrap_err();
        assert_eq!(err.problems[0].line, Some(2));
        assert!(parse("").is_err());
    }
}
