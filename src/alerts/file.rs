//! File receiver: appends each alert's JSON as one line. The default receiver, so a
//! fresh install shows its alerts somewhere.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use super::render::{self, Alert};
use super::{DeliveryError, Notifier};
use crate::model::ReceiverName;
use crate::settings::{FieldError, parse_options};
use crate::store::Delivery;

/// Validated `kind = "file"` options.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// The JSON-lines file alerts are appended to.
    pub path: PathBuf,
    /// Most hits one line carries; a larger group is split, never cut.
    pub hits_per_message: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOptions {
    path: PathBuf,
    hits_per_message: Option<usize>,
}

impl FileSettings {
    /// Validates `path`.
    pub fn parse(options: Map<String, Value>) -> Result<FileSettings, FieldError> {
        let options: FileOptions = parse_options(options)?;
        if options.path.as_os_str().is_empty() {
            return Err(FieldError::new("path", "must not be empty"));
        }
        Ok(FileSettings {
            path: options.path,
            hits_per_message: super::hits_per_message(options.hits_per_message)?,
        })
    }
}

/// Appends alerts to a file.
pub struct FileNotifier {
    name: ReceiverName,
    settings: FileSettings,
}

impl FileNotifier {
    /// A notifier appending to `settings.path`.
    pub fn new(name: ReceiverName, settings: FileSettings) -> FileNotifier {
        FileNotifier { name, settings }
    }
}

#[async_trait::async_trait]
impl Notifier for FileNotifier {
    fn name(&self) -> &ReceiverName {
        &self.name
    }

    fn render(&self, alert: &Alert<'_>) -> String {
        render::json(alert)
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        if let Some(dir) = self
            .settings
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.settings.path)
            .await?;
        // One write per line, so concurrent readers never see half an alert.
        let mut line = delivery.payload.clone();
        line.push('\n');
        file.write_all(line.as_bytes()).await?;
        file.sync_data().await?;
        Ok(())
    }
}
