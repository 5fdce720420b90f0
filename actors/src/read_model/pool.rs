//! The threads queries run on: few, and at a low OS priority. A query over many twins keeps a
//! core busy for milliseconds; on a small machine that core is a large share of the whole, so
//! queries must give way to the log writer, the read model's follower, the twin actors and the
//! HTTP workers, which all keep the normal priority. Only scheduling can do that: no lock is
//! shared between ingestion and queries (docs/design.md "Queries over HTTP", "Isolation").

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::background::{lower_thread_priority, BackgroundClass};

use super::{QueryPoolError, QueryRunError, ReadModel, SharedReadModel};

/// One thread: the model's lock admits one query at a time anyway, and a second thread would
/// only wait on the lock, ahead of the follower.
pub const QUERY_THREADS_DEFAULT: usize = 1;

/// Runs queries against a [`SharedReadModel`] on threads of its own, in
/// [`BackgroundClass::Nice`].
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
            .start_handler(|_| lower_thread_priority("query", BackgroundClass::Nice))
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

    /// Runs `evaluate` on a query thread, under the model's lock, and answers what it returns.
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
