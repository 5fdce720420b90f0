//! `twinlog serve`: opens (or creates) a node's data directory and reports its state.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use twinlog_actors::log::{EventLog, LogOptions};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the node keeps its log.
    #[arg(long, env = "TWINLOG_DATA_DIR", default_value = "./twinlog-data")]
    data_dir: PathBuf,
    /// The region this node serves.
    #[arg(long, env = "TWINLOG_REGION", default_value = "local")]
    region: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let log = EventLog::open(&args.data_dir, LogOptions::new(&args.region))?;
    let head = log.head();
    let meta = log.meta();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %args.data_dir.display(),
        region = %meta.region,
        role = %meta.role,
        epoch = meta.epoch,
        lsn = head.lsn,
        "log opened"
    );
    println!(
        "twinlog {}: region `{}` ({}), epoch {}, log at LSN {} in {}",
        env!("CARGO_PKG_VERSION"),
        meta.region,
        meta.role,
        meta.epoch,
        head.lsn,
        args.data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
