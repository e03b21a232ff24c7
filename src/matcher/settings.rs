//! `[matcher]`: settings of the matcher that the configuration file holds (the watch
//! list itself is `keywords.toml`).

use serde::Deserialize;

/// `[matcher]` as written and validated: every value is valid once serde read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherSettings {
    /// Net `not-relevant` verdicts (`mentiond feedback`) that switch a generated typo or
    /// folded variant off; 0: feedback switches nothing off.
    pub feedback_off_after: u32,
}
