//! The command line: what each subcommand takes, and how failures become exit codes.

mod audit;
mod export;
mod load;
mod serve;
mod token;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "twinlog",
    version,
    about = "Digital twins that stay up and lose nothing silently"
)]
pub struct Cli {
    /// How logs (on stderr) are written.
    #[arg(
        long,
        global = true,
        env = "TWINLOG_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event, with its span's fields, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a twinlog node on a data directory.
    Serve(serve::ServeArgs),
    /// Check a stopped node's data directory without modifying it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bearer tokens for --auth-file.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write every event of a stopped node's log as JSON lines, in LSN order.
    Export {
        /// The data directory (or its events.redb file).
        dir: PathBuf,
    },
    /// Tools for testing twinlog itself.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify checksums, the hash chain, contiguous LSNs, epochs and derived data.
    Verify {
        /// The data directory (or its events.redb file).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a fresh random token (on stderr) and the auth file stanza that accepts it (on
    /// stdout): `twinlog token new --name ingest --role owner >> auth.toml`.
    New {
        /// Shown in logs for requests made with the token.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::http::auth::Role,
    },
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Append from many concurrent producers and print each acknowledged LSN.
    AppendLoad(load::AppendLoadArgs),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Serve(args) => serve::run(args),
            Command::Audit(AuditCommand::Verify { dir }) => audit::verify(&dir),
            Command::Token(TokenCommand::New { name, role }) => token::new(name, role),
            Command::Export { dir } => export::run(&dir),
            Command::Debug(DebugCommand::AppendLoad(args)) => load::run(args),
        }
    }

    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`), so that stdout stays the command's
/// own output.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

/// Runs a read-only command over a file that may hold anything. Our own code returns errors for
/// every damage it can see, but the storage engine may still assert on a page it cannot make
/// sense of; that becomes an error naming the file instead of a crash.
fn contain_panics<T>(
    path: &std::path::Path,
    run: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::panic::set_hook(previous);
    outcome.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        Err(anyhow::anyhow!(
            "{}: the storage engine cannot read this file: {reason}",
            twinlog_migrations::reader::log_path(path).display()
        ))
    })
}
