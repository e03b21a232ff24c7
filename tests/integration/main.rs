//! Integration tests: the real `mentiond` binary and library driven against real
//! parts on loopback (HTTP servers serving recorded-shape payloads, SQLite files in
//! temporary directories). One test binary, one module per capability.

mod matcher_cli;
