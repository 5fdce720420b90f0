//! The threads queries run on: few, and under Linux's `SCHED_IDLE`. A query over many twins
//! keeps a core busy for milliseconds; on a small machine that core is a large share of the
//! whole, so queries must give way to the log writer, the read model's follower, the twin
//! actors and the HTTP workers, which all keep the normal priority. Only scheduling can do
//! that, and `SCHED_IDLE` does it at once: a woken normal thread takes the core from a query
//! without waiting out its slice. Starving a query is safe, since it holds nothing another
//! thread waits for: it reads a snapshot of the model, and the follower never waits on one
//! (docs/design.md "Queries over HTTP", "Isolation").

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::background::run_below_ingestion;

use super::{QueryPoolError, QueryRunError, ReadModel, SharedReadModel};

/// One thread: queries get only the time no normal thread wants, which a second thread would
/// not add to on a busy machine, and each running query keeps its snapshot, and so the twins
/// the follower has changed since, in memory.
pub const QUERY_THREADS_DEFAULT: usize = 1;

/// Runs queries against a [`SharedReadModel`]'s snapshots on threads of its own, under
/// `SCHED_IDLE` ([`run_below_ingestion`](crate::background::run_below_ingestion)).
pub struct QueryPool {
    threads: rayon::ThreadPool,
    model: Arc<SharedReadModel>,
}

impl QueryPool {
    /// Starts `threads` (at least one) query threads over `model`.
    pub fn start(model: Arc<SharedReadModel>, threads: usize) -> Result<QueryPool, QueryPoolError> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|at| format!("query-{at}"))
            .start_handler(|_| run_below_ingestion("query"))
            // Without a handler, rayon aborts the process on a panic; the query's caller is
            // told instead (its answer's sender is dropped).
            .panic_handler(|_| tracing::error!("a query panicked during evaluation"))
            .build()?;
        Ok(QueryPool { threads, model })
    }

    /// The model the queries read.
    pub fn model(&self) -> &Arc<SharedReadModel> {
        &self.model
    }

    /// Runs `evaluate` on a query thread, on the latest snapshot, and answers what it returns.
    pub async fn run<R: Send + 'static>(
        &self,
        evaluate: impl FnOnce(&ReadModel) -> R + Send + 'static,
    ) -> Result<R, QueryRunError> {
        let (answer, answered) = oneshot::channel();
        let model = self.model.clone();
        self.threads.spawn(move || {
            // The caller may have gone; then nobody wants the answer.
            let _ = answer.send(model.read(evaluate));
        });
        answered.await.map_err(|_| QueryRunError::Panicked)?
    }
}
