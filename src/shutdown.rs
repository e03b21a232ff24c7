//! Turns SIGTERM and SIGINT into a [`CancellationToken`] the whole daemon watches, and
//! SIGHUP into a stream of reload requests ([`ReloadSignals`]).

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Waits for SIGTERM or SIGINT, then cancels `token`.
pub async fn cancel_on_signal(token: CancellationToken) -> std::io::Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let name = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
        _ = token.cancelled() => return Ok(()),
    };
    tracing::info!(signal = name, "shutting down");
    token.cancel();
    Ok(())
}

/// SIGHUPs received since it was installed: from then on SIGHUP no longer ends the
/// process. Several SIGHUPs arriving before one is taken count as one request.
#[derive(Debug)]
pub struct ReloadSignals(Signal);

impl ReloadSignals {
    /// Installs the SIGHUP handler; must be called inside the tokio runtime.
    pub fn install() -> std::io::Result<ReloadSignals> {
        Ok(ReloadSignals(signal(SignalKind::hangup())?))
    }

    /// Waits for the next SIGHUP; `None` once no more can arrive.
    pub async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}
