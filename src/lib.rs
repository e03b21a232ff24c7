//! mentiond watches public posts for mentions of brands and makes sure the people
//! responsible see each one within minutes.
//!
//! Modules are declared bottom-up: leaves first, then the data flow `sources` →
//! `pipeline` (which runs `matcher` → `routing` → `store`) → `alerts`, then the
//! surfaces (`api`, `cli`) and `config`/`app`, which assemble everything. A module
//! imports only modules declared above it; `ARCHITECTURE.md` has the picture and a
//! test holds the direction.

#![forbid(unsafe_code)]

// Leaves: import nothing from the crate.
pub mod backoff;
pub mod escape;
pub mod http;
pub mod metrics;
pub mod model;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
pub mod text;

// Test support: the mutation fuzzer every parser's tests run.
#[cfg(test)]
pub(crate) mod fuzz;

// The domain (the parsed watch list) and task supervision.
pub mod keywords;
pub mod supervise;

// The data flow.
pub mod sources;

pub mod matcher;

pub mod sentiment;

pub mod routing;

pub mod store;

pub mod alerts;
pub mod report;

pub mod pipeline;

// Surfaces and assembly.
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod intake;
