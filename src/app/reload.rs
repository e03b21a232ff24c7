//! The `reload` task: SIGHUP loads the configuration again and swaps what it compiles.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::{self, SectionDigests};
use crate::escape;
use crate::pipeline::snapshot::{KeywordSnapshot, SharedKeywords};
use crate::shutdown::ReloadSignals;

/// On each SIGHUP until `stop`: loads the configuration from `file` again, validated in
/// full like `mentiond check`, and when it is valid swaps a snapshot compiled from its
/// keywords into `keywords` (matcher, labels and own handles together). When it is not,
/// every problem is logged and the running keywords stay. Other settings are compared
/// with `running` (those the daemon started with) and only reported: they take effect
/// at restart.
pub(super) async fn reload_on_signal(
    mut signals: ReloadSignals,
    file: Option<PathBuf>,
    keywords: Arc<SharedKeywords>,
    running: SectionDigests,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            received = signals.recv() => if received.is_none() {
                anyhow::bail!("the SIGHUP stream ended");
            },
        }
        info!(signal = "SIGHUP", "reloading keywords");
        let path = file.clone();
        // Loading reads files and compiles the matcher: seconds for a large watch list.
        let loaded = tokio::task::spawn_blocking(move || {
            let config = config::load(path.as_deref())?;
            let snapshot = KeywordSnapshot::new(config.keywords)?;
            anyhow::Ok((config.sections, snapshot))
        })
        .await
        .context("loading the configuration")?;
        match loaded {
            Ok((sections, snapshot)) => {
                let (brands, topics) = (snapshot.rules.brands.len(), snapshot.rules.topics.len());
                keywords.replace(snapshot);
                info!(brands, topics, "keywords reloaded");
                let changed = running.changed_besides_keywords(&sections);
                if !changed.is_empty() {
                    warn!(
                        sections = changed.join(", "),
                        "settings changed; they take effect at restart"
                    );
                }
            }
            Err(err) => {
                match err.downcast_ref::<config::ConfigError>() {
                    Some(invalid) => {
                        for problem in &invalid.problems {
                            error!(error = %escape::log(&problem.to_string()), "invalid configuration");
                        }
                    }
                    None => error!(error = %escape::log(&format!("{err:#}")), "invalid keywords"),
                }
                error!("reload refused, the running keywords stay");
            }
        }
    }
}
