//! `keywords.toml` → validated [`KeywordRules`]: the watch list the matcher compiles.
//!
//! Every problem is collected with its file, key and line; nothing here matches text.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::settings::{
    ConfigError, InvalidValue, Problem, TomlSource, deserialize_table, line_of_offset,
};
use crate::text::fold;

/// The validated watch list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordRules {
    /// Brands in file order.
    pub brands: Vec<Brand>,
    /// Topics (boolean rules over terms) in file order.
    pub topics: Vec<Topic>,
}

impl KeywordRules {
    /// True when a brand or topic is called `name`.
    pub fn has_name(&self, name: &str) -> bool {
        self.brands.iter().any(|b| b.name == name) || self.topics.iter().any(|t| t.name == name)
    }

    /// True when a brand or topic belongs to `team`.
    pub fn has_team(&self, team: &str) -> bool {
        let team = Some(team);
        self.brands.iter().any(|b| b.team.as_deref() == team)
            || self.topics.iter().any(|t| t.team.as_deref() == team)
    }
}

/// One watched brand (or a competitor of one).
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    /// Display name, unique in the file; hits and routes refer to it.
    pub name: String,
    /// Team responsible for its mentions; routes match on it.
    pub team: Option<String>,
    /// Names and phrases, matched as whole words.
    pub terms: Vec<Term>,
    /// Account handles, always starting with `@`.
    pub handles: Vec<String>,
    /// Hashtags, always starting with `#`.
    pub hashtags: Vec<String>,
    /// Web domains (`turkcell.com.tr`).
    pub domains: Vec<String>,
    /// Spellings people really type (`turkcel`).
    pub misspellings: Vec<String>,
    /// Whether typo variants of `terms` are generated.
    pub typos: Typos,
    /// Whether ASCII-only terms refuse accented spellings: `Some(true)` always (`Uber`
    /// is not `über`), `Some(false)` never, `None` (the default) when the term is itself
    /// a word of a bundled word list, so an accented spelling is that word
    /// (`Türkcell` matches Turkcell, `über` does not match Uber).
    pub ascii_strict: Option<bool>,
    /// A post containing any of these is not a hit for this brand.
    pub exclude: Vec<String>,
    /// Context words: when set, at least one must appear for a hit.
    pub require_any: Vec<String>,
    /// Context words that are not required but tell that a post is about the brand
    /// (`rötar`, `uçuş` for THY): a `case = "exact"` term typed in another case counts
    /// when one of them (or of `require_any`) is in the same post.
    pub context: Vec<String>,
    /// Which posts are considered at all.
    pub filters: Filters,
    /// Set on competitor entries: the brand this one is watched against.
    pub competitor_of: Option<String>,
    /// How pressing its hits are; `urgent` hits skip a route's `group_wait`.
    pub severity: Severity,
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
    pub fn parse(text: &str) -> Result<Severity, InvalidValue> {
        match text {
            "normal" => Ok(Severity::Normal),
            "urgent" => Ok(Severity::Urgent),
            other => Err(InvalidValue(format!(
                "unknown severity `{other}`, expected `normal` or `urgent`"
            ))),
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

/// A name or phrase of a brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as written in the file.
    pub text: String,
    /// Whether the original text must show the same letter case.
    pub case: CaseRule,
}

/// Letter-case handling of a term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseRule {
    /// Any case matches.
    #[default]
    Ignore,
    /// The letters must have the case they have in the file (`THY`, not `thy`).
    Exact,
}

/// Automatic typo variants of a brand's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Typos {
    /// Only the listed `misspellings`.
    Off,
    /// Edit-distance-1 variants of terms with 5 letters or more, minus real words.
    #[default]
    Auto,
}

/// A boolean rule: `all` terms, at least one `any` term, no `none` term.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Display name, unique among brands and topics; hits carry it as their brand.
    pub name: String,
    /// Team responsible for its hits.
    pub team: Option<String>,
    /// Every one of these must appear.
    pub all: Vec<String>,
    /// At least one of these must appear (when the list is not empty).
    pub any: Vec<String>,
    /// None of these may appear.
    pub none: Vec<String>,
    /// When set, the `all` terms and one `any` term must lie within this many words.
    pub near: Option<u32>,
    /// Which posts are considered at all.
    pub filters: Filters,
}

/// Which posts a brand or topic considers; an unknown property (no language, no
/// follower count) passes its filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Accepted languages, lower-case (empty: all).
    pub lang: Vec<String>,
    /// Accepted source names (empty: all).
    pub sources: Vec<String>,
    /// Authors with fewer followers are ignored.
    pub min_followers: Option<u64>,
    /// The brand's own accounts, lower-case without `@`: their posts are never hits,
    /// and their replies acknowledge the brand's hits on the posts they answer.
    pub own_handles: Vec<String>,
    /// Reposts (kind `repost`, or text starting with `RT @`) are ignored.
    pub skip_reposts: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrand {
    name: String,
    team: Option<String>,
    #[serde(default)]
    terms: Vec<RawTerm>,
    #[serde(default)]
    handles: Vec<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    misspellings: Vec<String>,
    #[serde(default)]
    typos: Typos,
    #[serde(default)]
    case: CaseRule,
    ascii_strict: Option<bool>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    require_any: Vec<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    lang: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    min_followers: Option<u64>,
    #[serde(default)]
    own_handles: Vec<String>,
    #[serde(default)]
    skip_reposts: bool,
    competitor_of: Option<String>,
    severity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: String,
    team: Option<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    near: Option<u32>,
    #[serde(default)]
    lang: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    min_followers: Option<u64>,
    #[serde(default)]
    own_handles: Vec<String>,
    #[serde(default)]
    skip_reposts: bool,
}

/// A term is a string or `{ term = "THY", case = "exact" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTerm {
    Plain(String),
    Detailed(RawDetailedTerm),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetailedTerm {
    term: String,
    case: Option<CaseRule>,
}

/// Reads and validates the keywords file at `path`.
pub fn load_keywords(path: &Path) -> Result<KeywordRules, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError::one(Problem {
            file: path.display().to_string(),
            line: None,
            key: "keywords".into(),
            message: format!("cannot read {}: {err}", path.display()),
        })
    })?;
    parse_keywords(path, &text)
}

/// Validates keywords `text` read from `path`, reporting every problem at once.
pub fn parse_keywords(path: &Path, text: &str) -> Result<KeywordRules, ConfigError> {
    let file = path.display().to_string();
    let document: Map<String, Value> = toml::from_str(text).map_err(|err| {
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
    let raw_brands: Vec<(usize, Option<RawBrand>)> = entries(&document, "brand", &mut problem);
    let raw_topics: Vec<(usize, Option<RawTopic>)> = entries(&document, "topic", &mut problem);
    // Every brand name, also of entries that could not be read, so `competitor_of`
    // naming one of them is not reported as well.
    let names: HashSet<String> = document
        .get("brand")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.get("name")?.as_str()?.to_lowercase()))
        .collect();
    for key in document
        .keys()
        .filter(|key| !["brand", "topic"].contains(&key.as_str()))
    {
        problem(
            key.clone(),
            format!("unknown field `{key}`, expected `brand` or `topic`"),
        );
    }
    if raw_brands.is_empty() && raw_topics.is_empty() {
        problem(
            "brand".into(),
            "no [[brand]] or [[topic]] entries: nothing would ever match".into(),
        );
    }
    let mut seen = HashSet::new();
    let mut brands = Vec::with_capacity(raw_brands.len());
    for (index, raw) in raw_brands {
        let Some(raw) = raw else { continue };
        let key = |field: &str| format!("brand[{index}].{field}");
        check_name(&raw.name, &mut seen, key("name"), &mut problem);
        if raw.terms.is_empty()
            && raw.handles.is_empty()
            && raw.hashtags.is_empty()
            && raw.domains.is_empty()
            && raw.misspellings.is_empty()
        {
            problem(
                key("terms"),
                "set at least one of `terms`, `handles`, `hashtags`, `domains`, `misspellings`"
                    .into(),
            );
        }
        let terms: Vec<Term> = raw
            .terms
            .into_iter()
            .map(|term| match term {
                RawTerm::Plain(text) => Term {
                    text: text.trim().to_string(),
                    case: raw.case,
                },
                RawTerm::Detailed(detailed) => Term {
                    text: detailed.term.trim().to_string(),
                    case: detailed.case.unwrap_or(raw.case),
                },
            })
            .collect();
        let texts: Vec<String> = terms.iter().map(|term| term.text.clone()).collect();
        check_terms(&texts, key("terms"), &mut problem);
        for (field, list) in [
            ("misspellings", &raw.misspellings),
            ("exclude", &raw.exclude),
            ("require_any", &raw.require_any),
            ("context", &raw.context),
        ] {
            check_terms(list, key(field), &mut problem);
        }
        check_lengths(&raw.domains, &key("domains"), &mut problem);
        if let Some(bad) = raw
            .domains
            .iter()
            .find(|d| !d.contains('.') || d.trim().contains(char::is_whitespace))
        {
            problem(
                key("domains"),
                format!("`{bad}` is not a domain like `example.com`"),
            );
        }
        let handles = prefixed(&raw.handles, '@');
        let hashtags = prefixed(&raw.hashtags, '#');
        let own_handles = prefixed(&raw.own_handles, '@');
        for (field, list) in [
            ("handles", &handles),
            ("hashtags", &hashtags),
            ("own_handles", &own_handles),
        ] {
            check_lengths(list, &key(field), &mut problem);
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
                problem(key("severity"), message.into());
                Severity::Normal
            }
        };
        let filters = filters(
            raw.lang,
            raw.sources,
            raw.min_followers,
            raw.own_handles,
            raw.skip_reposts,
        );
        brands.push(Brand {
            name: raw.name.trim().to_string(),
            team: raw.team,
            terms,
            handles,
            hashtags,
            domains: trimmed(raw.domains),
            misspellings: trimmed(raw.misspellings),
            typos: raw.typos,
            ascii_strict: raw.ascii_strict,
            exclude: trimmed(raw.exclude),
            require_any: trimmed(raw.require_any),
            context: trimmed(raw.context),
            filters,
            competitor_of: raw.competitor_of,
            severity,
        });
    }
    let mut topics = Vec::with_capacity(raw_topics.len());
    for (index, raw) in raw_topics {
        let Some(raw) = raw else { continue };
        let key = |field: &str| format!("topic[{index}].{field}");
        check_name(&raw.name, &mut seen, key("name"), &mut problem);
        if raw.all.is_empty() && raw.any.is_empty() {
            problem(
                format!("topic[{index}]"),
                "set at least one of `all`, `any`".into(),
            );
        }
        if raw.all.len() > MAX_ALL_TERMS {
            problem(
                key("all"),
                format!("at most {MAX_ALL_TERMS} terms (use `any` for alternatives)"),
            );
        }
        for (field, list) in [("all", &raw.all), ("any", &raw.any), ("none", &raw.none)] {
            check_terms(list, key(field), &mut problem);
        }
        if raw.near == Some(0) {
            problem(key("near"), "must be at least 1 (words)".into());
        }
        topics.push(Topic {
            name: raw.name.trim().to_string(),
            team: raw.team,
            all: trimmed(raw.all),
            any: trimmed(raw.any),
            none: trimmed(raw.none),
            near: raw.near,
            filters: filters(
                raw.lang,
                raw.sources,
                raw.min_followers,
                raw.own_handles,
                raw.skip_reposts,
            ),
        });
    }
    if problems.is_empty() {
        Ok(KeywordRules { brands, topics })
    } else {
        Err(ConfigError::new(problems))
    }
}

/// Each `[[section]]` entry read on its own, so a wrong type in one hides nothing else;
/// an entry with a wrong-typed or unknown key is reported and given as `None`, not
/// checked further (its repaired remains would only produce follow-on complaints).
fn entries<T: DeserializeOwned>(
    document: &Map<String, Value>,
    section: &str,
    problem: &mut impl FnMut(String, String),
) -> Vec<(usize, Option<T>)> {
    let list = match document.get(section) {
        None => return Vec::new(),
        Some(Value::Array(list)) => list,
        Some(other) => {
            problem(
                section.into(),
                format!("expected a list of [[{section}]] tables, found {other}"),
            );
            return Vec::new();
        }
    };
    let mut entries = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let (parsed, errors) = deserialize_table(entry.clone(), None);
        let clean = errors.is_empty();
        for err in errors {
            let key = match err.key.as_str() {
                "" => format!("{section}[{index}]"),
                field => format!("{section}[{index}].{field}"),
            };
            problem(key, err.message);
        }
        entries.push((index, parsed.filter(|_| clean)));
    }
    entries
}

/// The most `all` terms a topic may have (they are tracked in a bit set).
pub const MAX_ALL_TERMS: usize = 32;

fn check_name(
    name: &str,
    seen: &mut HashSet<String>,
    key: String,
    problem: &mut impl FnMut(String, String),
) {
    if name.trim().is_empty() {
        problem(key, "must not be empty".into());
    } else if !seen.insert(name.trim().to_lowercase()) {
        problem(key, format!("`{name}` is defined twice"));
    }
}

/// The longest term, handle, hashtag or domain accepted, in characters: names and
/// phrases are far shorter, and every character of a term costs automaton states and
/// typo variants when the matcher compiles it.
pub const MAX_TERM_CHARS: usize = 100;

/// Refuses each entry of `list` longer than [`MAX_TERM_CHARS`], under its own key
/// (`brand[3].terms[0]`).
fn check_lengths(list: &[String], key: &str, problem: &mut impl FnMut(String, String)) {
    for (index, item) in list.iter().enumerate() {
        let chars = item.trim().chars().count();
        if chars > MAX_TERM_CHARS {
            problem(
                format!("{key}[{index}]"),
                format!("is {chars} characters long, more than the {MAX_TERM_CHARS} allowed"),
            );
        }
    }
}

/// Every term must keep something to search for after folding (emoji and symbols
/// fold to spaces, like other word separators) and be at most [`MAX_TERM_CHARS`] long.
fn check_terms(list: &[String], key: String, problem: &mut impl FnMut(String, String)) {
    check_lengths(list, &key, problem);
    if list.iter().any(|term| term.trim().is_empty()) {
        problem(key, "contains an empty term".into());
    } else if let Some(bad) = list.iter().find(|term| fold(term).trim().is_empty()) {
        problem(
            key,
            format!("`{bad}` has no letters, digits or ASCII punctuation to match"),
        );
    }
}

fn filters(
    lang: Vec<String>,
    sources: Vec<String>,
    min_followers: Option<u64>,
    own_handles: Vec<String>,
    skip_reposts: bool,
) -> Filters {
    let lower = |list: Vec<String>| -> Vec<String> {
        list.into_iter()
            .map(|item| item.trim().trim_start_matches('@').to_lowercase())
            .collect()
    };
    Filters {
        lang: lower(lang),
        sources: trimmed(sources),
        min_followers,
        own_handles: lower(own_handles),
        skip_reposts,
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

    /// The key and line of every problem, in order.
    fn keys_and_lines(err: &ConfigError) -> Vec<(&str, Option<usize>)> {
        err.problems
            .iter()
            .map(|p| (p.key.as_str(), p.line))
            .collect()
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
        assert_eq!(
            keys_and_lines(&err),
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
    fn terms_of_only_emoji_or_symbols_are_refused() {
        let text = "[[brand]]\nname = \"A\"\nterms = [\"a\"]\nexclude = [\"🍕 ❤\"]\n\n[[topic]]\nname = \"B\"\nany = [\"—\", \"b\"]\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            keys_and_lines(&err),
            [("brand[0].exclude", Some(4)), ("topic[0].any", Some(8))]
        );
        assert!(err.problems[0].message.contains("`🍕 ❤`"));
        // Punctuation that survives folding is something to match.
        parse("[[brand]]\nname = \"C\"\nterms = [\"C#\", \"#1\"]\n").unwrap();
    }

    #[test]
    fn terms_over_the_length_limit_are_refused_with_key_and_line() {
        let long = "k".repeat(MAX_TERM_CHARS + 1);
        let fits = "ş".repeat(MAX_TERM_CHARS);
        let text = format!(
            "[[brand]]\nname = \"A\"\nterms = [\"a\"]\n\n[[brand]]\nname = \"B\"\nterms = [\n  \"b\",\n  \"{long}\",\n]\nhandles = [\"@{long}\"]\n\n[[brand]]\nname = \"C\"\nterms = [\"{fits}\"]\n"
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(
            keys_and_lines(&err),
            [
                ("brand[1].terms[1]", Some(9)),
                ("brand[1].handles[0]", Some(11))
            ]
        );
        assert!(err.problems[0].message.contains("101 characters"));
        assert!(
            !err.to_string().contains(&long),
            "the term itself is not echoed"
        );
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

    #[test]
    fn a_wrong_type_names_its_key_and_line_and_hides_no_other_entry() {
        let text = "[[brand]]\nname = \"A\"\nterms = \"x\"\n\n[[brand]]\nname = \"B\"\nterms = [\"b\"]\nmin_followers = 1.5\n\n[[brand]]\nname = \"C\"\nterms = [\"\"]\ncompetitor_of = \"A\"\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            keys_and_lines(&err),
            [
                ("brand[0].terms", Some(3)),
                ("brand[1].min_followers", Some(8)),
                ("brand[2].terms", Some(12)),
            ]
        );
        assert!(
            err.problems[0]
                .message
                .contains("invalid type: string \"x\"")
        );
        let err = parse("brands = []\n[[brand]]\nname = \"A\"\nterms = [\"a\"]\n").unwrap_err();
        assert_eq!(keys_and_lines(&err), [("brands", Some(1))]);
    }

    #[test]
    fn an_unreadable_file_gives_the_os_reason_and_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("keywords.toml");
        let err = load_keywords(&missing).unwrap_err();
        let expected = format!(
            "cannot read {}: No such file or directory (os error 2)",
            missing.display()
        );
        assert_eq!(err.problems[0].message, expected);
        assert_eq!(
            (err.problems[0].key.as_str(), err.problems[0].line),
            ("keywords", None)
        );

        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&missing, "[[brand]]\nname = \"A\"\nterms = [\"a\"]\n").unwrap();
        std::fs::set_permissions(&missing, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&missing).is_ok() {
            println!("running as root: permissions are not checked, skipping the chmod 000 case");
        } else {
            let err = load_keywords(&missing).unwrap_err();
            assert!(
                err.problems[0]
                    .message
                    .ends_with("Permission denied (os error 13)"),
                "{err}"
            );
        }
        let err = load_keywords(dir.path()).unwrap_err();
        assert!(err.problems[0].message.contains("Is a directory"), "{err}");
    }

    #[test]
    fn new_schema_parses_terms_rules_filters_and_topics() {
        let rules = parse(
            r##"
[[brand]]
name = "THY"
team = "thy"
terms = ["Türk Hava Yolları", { term = "THY", case = "exact" }]
domains = ["thy.com"]
typos = "off"
ascii_strict = false
require_any = ["uçuş"]
context = ["rötar", "bagaj"]
lang = ["TR"]
sources = ["x"]
min_followers = 5
own_handles = ["@TK_TR"]
skip_reposts = true

[[topic]]
name = "Delay"
team = "thy"
all = ["uçuş"]
any = ["rötar"]
none = ["kampanya"]
near = 4
"##,
        )
        .unwrap();
        let brand = &rules.brands[0];
        assert_eq!(
            brand.terms,
            [
                Term {
                    text: "Türk Hava Yolları".into(),
                    case: CaseRule::Ignore
                },
                Term {
                    text: "THY".into(),
                    case: CaseRule::Exact
                }
            ]
        );
        assert_eq!((brand.typos, brand.ascii_strict), (Typos::Off, Some(false)));
        assert_eq!(brand.context, ["rötar", "bagaj"]);
        assert_eq!(
            brand.filters,
            Filters {
                lang: vec!["tr".into()],
                sources: vec!["x".into()],
                min_followers: Some(5),
                own_handles: vec!["tk_tr".into()],
                skip_reposts: true,
            }
        );
        let topic = &rules.topics[0];
        assert_eq!(
            (topic.near, topic.all.len(), topic.any.len()),
            (Some(4), 1, 1)
        );
        assert!(rules.has_name("Delay") && rules.has_team("thy") && !rules.has_name("x"));
        assert_eq!(
            parse("[[brand]]\nname = \"A\"\nterms = [\"a\"]\n")
                .unwrap()
                .brands[0]
                .typos,
            Typos::Auto
        );
    }

    #[test]
    fn new_schema_problems_name_key_and_line() {
        let text = "[[brand]]\nname = \"A\"\nterms = [\"a\"]\ndomains = [\"nodot\"]\nrequire_any = [\" \"]\n\n[[topic]]\nname = \"a\"\nnear = 0\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            keys_and_lines(&err),
            [
                ("brand[0].require_any", Some(5)),
                ("brand[0].domains", Some(4)),
                ("topic[0].name", Some(8)),
                ("topic[0]", Some(7)),
                ("topic[0].near", Some(9)),
            ]
        );
        for (text, line) in [
            ("[[topic]]\nname = \"T\"\nall = [\"a\"]\nnearby = 3\n", 4),
            (
                "[[brand]]\nname = \"A\"\nterms = [\"a\"]\ntypos = \"always\"\n",
                4,
            ),
            (
                "[[brand]]\nname = \"A\"\nterms = [{ term = \"a\", cse = \"exact\" }]\n",
                3,
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.problems[0].line, Some(line), "{text}");
        }
    }

    #[test]
    fn fuzzed_keyword_files_load_or_fail_with_located_problems() {
        let shipped = include_bytes!("../keywords.toml");
        let sources = include_bytes!("../tests/fixtures/keywords/sources.toml");
        crate::fuzz::run("keywords.toml", &[shipped, sources], |input| {
            let text = String::from_utf8_lossy(input);
            if let Err(err) = parse_keywords(Path::new("keywords.toml"), &text) {
                assert!(!err.to_string().is_empty());
            }
        });
    }
}
