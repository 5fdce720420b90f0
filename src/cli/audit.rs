//! `twinlog audit …`: checks of a stopped node's data, which never modify it.

use std::path::Path;
use std::process::ExitCode;

/// `twinlog audit verify DIR`: exit 0 when the log is whole, else 1 naming the first bad LSN.
pub fn verify(dir: &Path) -> anyhow::Result<ExitCode> {
    let outcome = super::contain_panics(dir, || Ok(twinlog_migrations::verify(dir)));
    match outcome {
        Ok(Ok(report)) => {
            if report.repaired_copy {
                eprintln!(
                    "note: {} was not closed cleanly; verified a repaired private copy, the file is untouched",
                    report.path.display()
                );
            }
            println!(
                "ok: {} records, last LSN {}, epoch {}, {} twins, heads checkpoint at LSN {}, head hash {}",
                report.records,
                report.last_lsn,
                report.last_epoch,
                report.twins,
                report.checkpoint_lsn,
                hex::encode(report.head_hash)
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            if let Some(lsn) = error.lsn() {
                eprintln!("first bad LSN: {lsn}");
            }
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}
