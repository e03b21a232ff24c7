//! Integration tests: the real `mentiond` binary and library driven against real
//! parts on loopback (HTTP servers serving recorded-shape payloads, SQLite files in
//! temporary directories). One test binary, one module per capability.

mod support;

mod api;
mod chat;
mod cli;
mod daemon;
mod delivery;
mod email;
mod grouping;
mod responsibility;
mod smtp_server;
