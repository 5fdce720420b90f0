//! The one thread that writes the log: it gathers waiting appends into a batch, commits them in
//! one durable transaction, and only then acknowledges them.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use redb::{Database, ReadableTable};
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::{mpsc, watch};
use twinlog_migrations::format::{EVENTS, TWIN_HEADS};
use twinlog_migrations::{LogMeta, RecordHeader, TwinHead};

use super::{
    read_heads, AppendError, Appended, LogHead, LogOptions, LogStats, SharedHeads, SideOp,
    WriterRequest,
};

pub(super) struct LogWriter {
    pub(super) db: Arc<Database>,
    pub(super) epoch: u64,
    /// The durable end: what the last successful commit made durable.
    pub(super) head: LogHead,
    pub(super) heads: SharedHeads,
    /// Twins whose heads changed since the last checkpoint.
    pub(super) dirty: FxHashSet<Arc<str>>,
    pub(super) events_since_checkpoint: u64,
    pub(super) options: LogOptions,
    pub(super) published: watch::Sender<LogHead>,
    pub(super) stats: Arc<LogStats>,
    /// Set once a commit fails: after a failed fsync the file's state is unknown, so the writer
    /// refuses everything until the log is reopened and recovered.
    pub(super) failed: Option<String>,
    #[cfg(test)]
    pub(super) commit_gate: super::CommitGate,
}

/// What one batch would make durable, applied to the writer only after its commit succeeds.
struct Batch {
    head: LogHead,
    heads: FxHashMap<Arc<str>, TwinHead>,
    acks: Vec<Vec<Appended>>,
    checkpointed: bool,
}

impl LogWriter {
    pub(super) fn run(mut self, mut queue: mpsc::Receiver<WriterRequest>) {
        while let Some(first) = queue.blocking_recv() {
            // Group commit: everything that queued up during the previous fsync shares this one.
            let mut events = first.events_len();
            let mut requests = vec![first];
            while events < self.options.batch_events_max {
                match queue.try_recv() {
                    Ok(request) => {
                        events += request.events_len();
                        requests.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit(requests, events);
        }
    }

    fn commit(&mut self, requests: Vec<WriterRequest>, events: usize) {
        if let Some(reason) = &self.failed {
            let error = AppendError::Storage {
                last_durable_lsn: self.head.lsn,
                reason: reason.clone(),
            };
            for request in requests {
                request.refuse(error.clone());
            }
            return;
        }
        match self.write(&requests, events) {
            Ok(batch) => {
                self.publish(&batch, events);
                for (request, acks) in requests.into_iter().zip(batch.acks) {
                    match request {
                        WriterRequest::Append { reply, .. } => reply.complete(Ok(acks)),
                        WriterRequest::Side { reply, .. } => {
                            let _ = reply.send(Ok(()));
                        }
                    }
                }
            }
            Err(error) => {
                let reason = error.to_string();
                tracing::error!(last_durable_lsn = self.head.lsn, error = %reason, "log commit failed; refusing appends");
                self.failed = Some(reason.clone());
                self.stats.failed.store(true, Ordering::Relaxed);
                let error = AppendError::Storage {
                    last_durable_lsn: self.head.lsn,
                    reason,
                };
                for request in requests {
                    request.refuse(error.clone());
                }
            }
        }
    }

    // Invariant: see docs/design.md "LSN". LSNs are assigned here, inside the transaction that
    // commits them, and the writer's state moves only after that commit: a crash or a failed
    // commit can leave no gap.
    fn write(&self, requests: &[WriterRequest], events: usize) -> Result<Batch, redb::Error> {
        // redb's default durability is `Immediate`: `commit` returns only after the fsync, which is
        // what makes an acknowledgement a promise.
        #[cfg(test)]
        self.pass_commit_gate()?;
        let txn = self.db.begin_write()?;
        let time_ms = super::wall_clock_ms().max(self.head.time_ms);
        let mut head = self.head;
        let mut touched: FxHashMap<Arc<str>, TwinHead> =
            FxHashMap::with_capacity_and_hasher(events, Default::default());
        let mut buffer = Vec::with_capacity(256);
        let mut acks = Vec::with_capacity(requests.len());
        {
            let committed = read_heads(&self.heads);
            let mut table = txn.open_table(EVENTS)?;
            for request in requests {
                let WriterRequest::Append { events, .. } = request else {
                    acks.push(Vec::new());
                    continue;
                };
                let mut request_acks = Vec::with_capacity(events.len());
                for event in events {
                    let lsn = head.lsn + 1;
                    let prev = match touched.get(&event.twin_id) {
                        Some(prev) => *prev,
                        None => committed.get(&event.twin_id).copied().unwrap_or_default(),
                    };
                    let next = prev.advance(lsn);
                    let record = RecordHeader {
                        lsn,
                        epoch: self.epoch,
                        twin_id: &event.twin_id,
                        twin_version: prev.version + 1,
                        prev_twin_lsn: prev.lsn,
                        time_ms,
                        payload: &event.payload,
                    };
                    let hash = record.encode_into(&head.hash, &mut buffer);
                    table.insert(lsn, buffer.as_slice())?;
                    match touched.get_mut(&event.twin_id) {
                        Some(head) => *head = next,
                        None => {
                            touched.insert(event.twin_id.clone(), next);
                        }
                    }
                    request_acks.push(Appended {
                        lsn,
                        twin_version: next.version,
                        time_ms,
                    });
                    head = LogHead {
                        lsn,
                        epoch: self.epoch,
                        hash,
                        time_ms,
                    };
                }
                acks.push(request_acks);
            }
        }
        for request in requests {
            if let WriterRequest::Side { ops, .. } = request {
                for op in ops {
                    apply_side(&txn, op)?;
                }
            }
        }
        let checkpointed =
            self.events_since_checkpoint + events as u64 >= self.options.checkpoint_interval_events;
        if checkpointed {
            self.write_checkpoint(&txn, &touched, head.lsn)?;
        }
        txn.commit()?;
        Ok(Batch {
            head,
            heads: touched,
            acks,
            checkpointed,
        })
    }

    #[cfg(test)]
    fn pass_commit_gate(&self) -> Result<(), redb::Error> {
        let verdict = self
            .commit_gate
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match verdict {
            Some(verdict) => {
                verdict().map_err(|reason| redb::Error::Io(std::io::Error::other(reason)))
            }
            None => Ok(()),
        }
    }

    // Invariant: see docs/design.md "Derived data". The heads and `checkpoint_lsn` go into the
    // same transaction as the events they reflect.
    fn write_checkpoint(
        &self,
        txn: &redb::WriteTransaction,
        touched: &FxHashMap<Arc<str>, TwinHead>,
        lsn: u64,
    ) -> Result<(), redb::Error> {
        let committed = read_heads(&self.heads);
        let mut table = txn.open_table(TWIN_HEADS)?;
        for twin in self.dirty.iter().chain(touched.keys()) {
            let head = touched
                .get(twin)
                .or_else(|| committed.get(twin))
                .copied()
                .unwrap_or_default();
            table.insert(&**twin, head.encode().as_slice())?;
        }
        LogMeta::write_checkpoint_lsn(txn, lsn)
    }

    fn publish(&mut self, batch: &Batch, events: usize) {
        {
            let mut heads = self
                .heads
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (twin, head) in &batch.heads {
                heads.insert(twin.clone(), *head);
            }
        }
        if batch.checkpointed {
            self.dirty.clear();
            self.events_since_checkpoint = 0;
        } else {
            self.dirty.extend(batch.heads.keys().cloned());
            self.events_since_checkpoint += events as u64;
        }
        // A commit of side writes alone leaves the head where it was: followers need no wake-up.
        if batch.head.lsn != self.head.lsn {
            self.published.send_replace(batch.head);
        }
        self.head = batch.head;
        self.stats.record_commit(events as u64);
    }
}

impl WriterRequest {
    fn events_len(&self) -> usize {
        match self {
            WriterRequest::Append { events, .. } => events.len(),
            WriterRequest::Side { .. } => 0,
        }
    }

    fn refuse(self, error: AppendError) {
        match self {
            WriterRequest::Append { reply, .. } => reply.complete(Err(error)),
            WriterRequest::Side { reply, .. } => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

/// One side-table change, inside the batch's transaction. Only plain table operations: nothing
/// here can fail but storage.
fn apply_side(txn: &redb::WriteTransaction, op: &SideOp) -> Result<(), redb::Error> {
    match op {
        SideOp::Put { table, key, value } => {
            txn.open_table(table.definition())?
                .insert(key.as_slice(), value.as_slice())?;
        }
        SideOp::PutIfAbsent { table, key, value } => {
            let mut table = txn.open_table(table.definition())?;
            if table.get(key.as_slice())?.is_none() {
                table.insert(key.as_slice(), value.as_slice())?;
            }
        }
        SideOp::Remove { table, key } => {
            txn.open_table(table.definition())?.remove(key.as_slice())?;
        }
        SideOp::RemoveRange { table, start, end } => {
            txn.open_table(table.definition())?
                .retain_in(start.as_slice()..end.as_slice(), |_, _| false)?;
        }
    }
    Ok(())
}
