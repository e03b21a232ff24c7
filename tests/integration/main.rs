//! Integration tests: the real `mentiond` binary and library driven against real
//! parts on loopback (HTTP servers serving recorded-shape payloads, SQLite files in
//! temporary directories). One test binary, one module per capability.

mod support;

mod api;
mod architecture;
mod chat;
mod cli;
mod console;
mod console_browser;
mod console_reload;
mod crash_loop;
mod daemon;
mod delivery;
mod disk_full;
mod email;
mod feed;
mod feedback;
mod grouping;
mod hits;
mod hostile;
mod intake;
mod matcher_cli;
mod metrics;
mod quality;
mod reload;
mod report;
mod responsibility;
mod retention;
mod service;
mod smtp_server;
mod sources_bluesky;
mod sources_feed;
mod sources_hackernews;
mod sources_jetstream;
mod sources_live;
mod sources_mastodon;
mod sources_reddit;
mod sources_status;
mod sources_support;
mod sources_x;
mod supervision;
