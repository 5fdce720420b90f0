//! What became of a twin actor's appends: kept on the log writer's thread as each one settles,
//! read by the actor only when it must know (to answer a held read, to stop).
//!
//! A write's reply leaves from the writer thread once its events are durable
//! ([`ReplyWhenDurable`]), so a successful append wakes only the thread that awaits the reply,
//! never the actor's. The actor is woken only when it asked to be, or when an append failed.

use std::any::Any;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, OnceLock};

use actix::{Message, WeakRecipient};
use tokio::sync::oneshot;

use super::twin_actor::Outcome;
use super::TwinAggregate;
use crate::log::{AppendCompletion, AppendError, Appended};

/// What an actor's appends became, numbered by the actor from 1 in submission order. The log
/// commits, and after a failed commit refuses, in that order, so appends settle in it too.
pub(super) struct Settlement {
    /// The latest append that settled, durable or failed; every append before it has settled.
    settled: AtomicU64,
    /// The first append that failed (`u64::MAX`: none). The writer refuses every append after a
    /// failed commit, so every later one fails too.
    failed_from: AtomicU64,
    /// Why the first failed append failed.
    failure: OnceLock<String>,
    /// The append whose settling the actor waits for (0: none).
    wake_at: AtomicU64,
    actor: WeakRecipient<Settled>,
}

/// Tells an actor that the append it waits for has settled, or that one failed.
pub(super) struct Settled;

impl Message for Settled {
    type Result = ();
}

// The orderings are all `SeqCst`: the actor stores `wake_at` then loads `settled`, the writer
// stores `settled` then loads `wake_at`, and one of the two must see the other's store, or a
// wake-up would be lost.
impl Settlement {
    pub(super) fn new(actor: WeakRecipient<Settled>) -> Settlement {
        Settlement {
            settled: AtomicU64::new(0),
            failed_from: AtomicU64::new(u64::MAX),
            failure: OnceLock::new(),
            wake_at: AtomicU64::new(0),
            actor,
        }
    }

    pub(super) fn settled(&self) -> u64 {
        self.settled.load(SeqCst)
    }

    /// The latest append known durable: it and every append before it are.
    pub(super) fn durable(&self) -> u64 {
        // `failed_from` is stored before `settled`: a failed append seen settled is seen failed.
        let settled = self.settled.load(SeqCst);
        settled.min(self.failed_from.load(SeqCst).saturating_sub(1))
    }

    /// The first append that failed, and why.
    pub(super) fn failure(&self) -> Option<(u64, String)> {
        let failed = self.failed_from.load(SeqCst);
        (failed != u64::MAX).then(|| (failed, self.failure.get().cloned().unwrap_or_default()))
    }

    /// Asks for [`Settled`] once append `seq` has settled. Returns whether it already has, in
    /// which case the message may or may not come.
    pub(super) fn wake_when_settled(&self, seq: u64) -> bool {
        self.wake_at.store(seq, SeqCst);
        if self.settled.load(SeqCst) >= seq {
            self.wake_at.store(0, SeqCst);
            return true;
        }
        false
    }

    /// Records that append `seq` settled, on the writer thread: never blocks, never wakes the
    /// actor unless it waits for this append or the append failed.
    fn settle(&self, seq: u64, failure: Option<&AppendError>) {
        if let Some(error) = failure {
            let _ = self.failure.set(error.to_string());
            self.failed_from.fetch_min(seq, SeqCst);
        }
        self.settled.store(seq, SeqCst);
        let wake_at = self.wake_at.load(SeqCst);
        let awaited = wake_at != 0
            && seq >= wake_at
            && self
                .wake_at
                .compare_exchange(wake_at, 0, SeqCst, SeqCst)
                .is_ok();
        if awaited || failure.is_some() {
            if let Some(actor) = self.actor.upgrade() {
                // Past the mailbox's bound, which is for requests: this one must not be lost.
                actor.do_send(Settled);
            }
        }
    }
}

/// A write's reply, sent by the log's writer once the write is durable (`Done`) or has failed
/// (`Failed`), which then settles the append for its actor.
pub(super) struct ReplyWhenDurable<A: TwinAggregate> {
    pub seq: u64,
    pub reply: oneshot::Sender<Outcome<A>>,
    pub rendered: Box<dyn Any + Send>,
    pub settlement: Arc<Settlement>,
}

impl<A: TwinAggregate> AppendCompletion for ReplyWhenDurable<A> {
    fn complete(self: Box<Self>, result: Result<Vec<Appended>, AppendError>) {
        let ReplyWhenDurable {
            seq,
            reply,
            rendered,
            settlement,
        } = *self;
        // The reply goes before the settling: an actor that sees every append settled may stop,
        // and it must stop only once every request it handled has its reply.
        match result {
            Ok(_) => {
                let _ = reply.send(Outcome::Done(rendered));
                settlement.settle(seq, None);
            }
            Err(error) => {
                let _ = reply.send(Outcome::Failed(error.clone()));
                settlement.settle(seq, Some(&error));
            }
        }
    }
}
