//! `twinlog debug append-load`: many concurrent producers appending telemetry, each
//! acknowledgement printed as it arrives, for crash tests that kill the process mid-stream.
//!
//! Each event's content follows from (round, producer, seq), so a checker can tell exactly what an
//! acknowledged LSN must hold. Output lines: `ack <lsn> <twin_version> <round> <producer> <seq>`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use twinlog_actors::log::{EventLog, LogOptions, NewEvent};
use twinlog_migrations::Event;

#[derive(Debug, Args)]
pub struct AppendLoadArgs {
    #[arg(long)]
    dir: PathBuf,
    #[arg(long, default_value = "local")]
    region: String,
    #[arg(long, default_value_t = 64)]
    producers: u64,
    /// Producers share this many twins (producer p writes twin p % twins).
    #[arg(long, default_value_t = 16)]
    twins: u64,
    /// Tags this run's events, so runs on the same directory can be told apart.
    #[arg(long, default_value_t = 0)]
    round: u64,
    /// Events each producer appends; without it, producers run until the process is killed.
    #[arg(long)]
    events_per_producer: Option<u64>,
    /// Events per append call.
    #[arg(long, default_value_t = 1)]
    batch: u64,
}

/// The event that (round, producer, seq) appends.
fn load_event(round: u64, producer: u64, seq: u64) -> Event {
    Event::Telemetry {
        message_id: format!("r{round}-p{producer}-s{seq}"),
        source_time: None,
        component: None,
        data: format!(r#"{{"round":{round},"producer":{producer},"seq":{seq}}}"#),
    }
}

pub fn run(args: AppendLoadArgs) -> anyhow::Result<ExitCode> {
    let log = EventLog::open(&args.dir, LogOptions::new(&args.region))?;
    let (lines, printed) = std::sync::mpsc::channel::<String>();
    // Printing is blocking I/O on a pipe, so it gets a thread of its own.
    let printer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        while let Ok(line) = printed.recv() {
            let mut write = writeln!(out, "{line}");
            while let Ok(line) = printed.try_recv() {
                write = write.and_then(|()| writeln!(out, "{line}"));
            }
            if write.and_then(|()| out.flush()).is_err() {
                return;
            }
        }
    });
    let runtime = tokio::runtime::Runtime::new()?;
    let outcome: anyhow::Result<()> = runtime.block_on(async {
        let mut producers = Vec::new();
        for producer in 0..args.producers {
            let (log, lines) = (log.clone(), lines.clone());
            let twin: Arc<str> = Arc::from(format!("twin-{}", producer % args.twins.max(1)));
            let (round, batch, limit) = (args.round, args.batch.max(1), args.events_per_producer);
            producers.push(tokio::spawn(async move {
                let mut seq = 0;
                while limit.is_none_or(|limit| seq < limit) {
                    let seqs: Vec<u64> = (seq..seq + batch).collect();
                    let events = seqs
                        .iter()
                        .map(|&s| NewEvent::new(twin.clone(), &load_event(round, producer, s)))
                        .collect();
                    let acks = log.append(events).await?;
                    for (ack, s) in acks.iter().zip(seqs) {
                        let _ = lines.send(format!(
                            "ack {} {} {round} {producer} {s}",
                            ack.lsn, ack.twin_version
                        ));
                    }
                    seq += batch;
                }
                anyhow::Ok(())
            }));
        }
        for producer in producers {
            producer.await??;
        }
        Ok(())
    });
    drop(lines);
    let _ = printer.join();
    outcome?;
    Ok(ExitCode::SUCCESS)
}
