//! The `twinlog` binary: parses the command line and hands over to [`twinlog::cli`].

use std::process::ExitCode;

use clap::Parser;

// The log writer frees, on its own thread, what producers allocated on theirs; glibc's allocator
// serialises much of that, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = twinlog::cli::Cli::parse();
    twinlog::cli::init_tracing(cli.log_format());
    match cli.run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
