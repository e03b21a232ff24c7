//! mentiond watches public posts for mentions of brands and makes sure the people
//! responsible see each one within minutes.
//!
//! Modules are declared in data-flow order: `sources` → `pipeline` → `matcher` →
//! `store` → `alerts`. See `ARCHITECTURE.md` for the code map and the invariants.

pub mod model;

pub mod sources;

pub mod pipeline;

pub mod matcher;

pub mod sentiment;

pub mod store;

pub mod alerts;

pub mod api;
pub mod app;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod escape;
pub mod http;
pub mod shutdown;
pub mod supervise;
pub mod telemetry;
