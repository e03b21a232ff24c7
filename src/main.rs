//! The `mentiond` binary: parses arguments and hands over to the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    mentiond::cli::execute(mentiond::cli::Cli::parse())
}
