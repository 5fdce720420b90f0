//! The `twinlog` binary: parses the command line and hands over to [`twinlog::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = twinlog::cli::Cli::parse();
    twinlog::cli::init_tracing();
    match cli.run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
