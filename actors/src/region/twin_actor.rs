//! The twin actor: a thin shell around a [`TwinAggregate`] that decides, appends, and answers
//! only once the log has made the decision durable.
//!
//! Commands are pipelined: the actor applies a decision's events to its state at once, so the
//! next command is decided against it, and appends them behind the previous ones; the log's
//! writer sends each write's reply once it is durable (see `settlement`). Reads wait for every
//! append queued before them, so no reply ever shows a change that is not durable.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use twinlog_migrations::{Event, ReadError};

use super::settlement::{ReplyWhenDurable, Settled, Settlement};
use super::supervisor::Shared;
use super::TwinAggregate;
use crate::log::{AppendError, EventLog, NewEvent, Refused};

/// What a request reads from the state once its command (if any) is decided. Callable again, so
/// that a request handed back by a failing actor can be retried.
pub(super) type Render<A> = Arc<dyn Fn(&A) -> Box<dyn Any + Send> + Send + Sync>;

/// One request to a twin: an optional command, and what to read from the state after it.
pub(super) struct TwinRequest<A: TwinAggregate> {
    pub command: Option<A::Command>,
    pub render: Render<A>,
    pub reply: oneshot::Sender<Outcome<A>>,
}

impl<A: TwinAggregate> Message for TwinRequest<A> {
    type Result = ();
}

/// What became of a request.
pub(super) enum Outcome<A: TwinAggregate> {
    Done(Box<dyn Any + Send>),
    Rejected(A::Error),
    /// The twin's logic panicked on this very command.
    Panicked,
    /// The append failed; nothing of this command is durable.
    Failed(AppendError),
    /// Too many requests are outstanding on this twin.
    Busy,
    /// A read whose view included an append that then failed: read again on the restarted actor.
    ReadAgain,
    /// Never handled: the actor is failing. The supervisor retries it on the restarted actor.
    Bounced,
}

/// Why an actor stopped, for the supervisor to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StopReason {
    Idle,
    Panicked,
    AppendFailed(String),
    LoadFailed(String),
}

/// A read answered once append `.0` is durable: (that append's sequence, reply, what was read).
type HeldRead<A> = (u64, oneshot::Sender<Outcome<A>>, Box<dyn Any + Send>);

pub(super) struct TwinActor<A: TwinAggregate> {
    twin_id: Arc<str>,
    generation: u64,
    shared: Arc<Shared>,
    log: EventLog,
    start_delay: Duration,
    state: Option<A>,
    /// Appends submitted so far: the sequence number of the latest.
    submitted: u64,
    /// What the submitted appends became, as the log's writer settles them.
    settlement: Arc<Settlement>,
    /// Reads held until the append they follow is durable, in submission order.
    held_reads: Vec<HeldRead<A>>,
    failing: Option<StopReason>,
    last_active: Instant,
}

impl<A: TwinAggregate> TwinActor<A> {
    pub(super) fn new(
        twin_id: Arc<str>,
        generation: u64,
        shared: Arc<Shared>,
        log: EventLog,
        start_delay: Duration,
        ctx: &mut Context<Self>,
    ) -> Self {
        TwinActor {
            twin_id,
            generation,
            shared,
            log,
            start_delay,
            state: None,
            submitted: 0,
            settlement: Arc::new(Settlement::new(ctx.address().into())),
            held_reads: Vec::new(),
            failing: None,
            last_active: Instant::now(),
        }
    }

    /// Stops the actor for `reason` once nothing is in flight: a reply promised for an append
    /// must still be given, and a command handed back must never have been handled.
    fn fail(&mut self, reason: StopReason, ctx: &mut Context<Self>) {
        if self.failing.is_none() {
            tracing::warn!(twin_id = %self.twin_id, reason = ?reason, "twin failing; restarting from the log");
            self.failing = Some(reason);
        }
        self.advance(ctx);
    }

    /// Appends submitted and not yet settled.
    fn in_flight(&self) -> u64 {
        self.submitted - self.settlement.settled()
    }

    /// Acts on what the log has settled: bounces the reads that saw a failed append, answers
    /// those now durable, stops a failing actor once nothing is in flight, and otherwise asks to
    /// be woken when the next append it waits for settles.
    fn advance(&mut self, ctx: &mut Context<Self>) {
        loop {
            if let Some((failed, reason)) = self.settlement.failure() {
                self.bounce_reads_after(failed);
                if self.failing.is_none() {
                    tracing::warn!(twin_id = %self.twin_id, failed_append = failed, reason = %reason, "append failed; restarting from the log");
                    self.failing = Some(StopReason::AppendFailed(reason));
                }
            }
            self.release_reads();
            let awaited = match self.held_reads.first() {
                Some((after, ..)) => *after,
                None if self.failing.is_some() => self.submitted,
                None => return,
            };
            if self.failing.is_some() && self.in_flight() == 0 {
                ctx.stop();
                return;
            }
            if !self.settlement.wake_when_settled(awaited) {
                return;
            }
        }
    }

    fn decide(&mut self, command: A::Command) -> Result<Result<Vec<Event>, A::Error>, ()> {
        let state = self
            .state
            .as_mut()
            .expect("requests wait for the state to load");
        let shared = &self.shared;
        let twin_id = &self.twin_id;
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            if shared.take_chaos(twin_id) {
                panic!("chaos: injected panic in twin `{twin_id}`");
            }
            let events = state.handle(command)?;
            for event in &events {
                state.apply(event);
            }
            Ok(events)
        }))
        .map_err(|_| ())
    }
}

impl<A: TwinAggregate> Actor for TwinActor<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.shared.options.outstanding_max);
        let (log, twin_id, delay) = (self.log.clone(), self.twin_id.clone(), self.start_delay);
        let load = async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            // Reading the log is blocking redb I/O: it runs on tokio's blocking pool, never on
            // this actor's thread.
            tokio::task::spawn_blocking(move || replay::<A>(&log, twin_id))
                .await
                .unwrap_or_else(|_| Err("the replay panicked".to_owned()))
        };
        ctx.wait(
            load.into_actor(self)
                .map(|loaded, actor, ctx| match loaded {
                    Ok(state) => actor.state = Some(state),
                    Err(reason) => actor.fail(StopReason::LoadFailed(reason), ctx),
                }),
        );
        let idle = self.shared.options.idle_timeout;
        ctx.run_interval(idle / 2, move |actor, ctx| {
            let quiet = actor.in_flight() == 0 && actor.last_active.elapsed() >= idle;
            if quiet && actor.failing.is_none() {
                actor.failing = Some(StopReason::Idle);
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        let reason = self.failing.clone().unwrap_or(StopReason::Idle);
        self.shared
            .on_stopped(&self.twin_id, self.generation, reason);
    }
}

fn replay<A: TwinAggregate>(log: &EventLog, twin_id: Arc<str>) -> Result<A, String> {
    let stream = log
        .twin_stream(&twin_id, 1)
        .map_err(|e: ReadError| e.to_string())?;
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut state = A::empty(twin_id.clone());
        for stored in &stream {
            let record = stored.decode().map_err(|e| e.to_string())?;
            state.apply(&record.event().map_err(|e| e.to_string())?);
        }
        Ok(state)
    }))
    .unwrap_or_else(|_| Err(format!("applying twin `{twin_id}`'s events panicked")))
}

impl<A: TwinAggregate> Handler<TwinRequest<A>> for TwinActor<A> {
    type Result = ();

    fn handle(&mut self, request: TwinRequest<A>, ctx: &mut Context<Self>) {
        self.last_active = Instant::now();
        let TwinRequest {
            command,
            render,
            reply,
        } = request;
        if self.failing.is_some() {
            let _ = reply.send(Outcome::Bounced);
            return;
        }
        let outstanding = self.in_flight() as usize + self.held_reads.len();
        if outstanding >= self.shared.options.outstanding_max {
            let _ = reply.send(Outcome::Busy);
            return;
        }
        let events = match command {
            None => Vec::new(),
            Some(command) => match self.decide(command) {
                Ok(Ok(events)) => events,
                Ok(Err(rejection)) => {
                    let _ = reply.send(Outcome::Rejected(rejection));
                    return;
                }
                Err(()) => {
                    // The state may be half-changed: it is never used again.
                    let _ = reply.send(Outcome::Panicked);
                    self.shared.stats.count_panic();
                    self.fail(StopReason::Panicked, ctx);
                    return;
                }
            },
        };
        let state = self
            .state
            .as_ref()
            .expect("requests wait for the state to load");
        let rendered = match std::panic::catch_unwind(AssertUnwindSafe(|| render(state))) {
            Ok(rendered) => rendered,
            Err(_) => {
                let _ = reply.send(Outcome::Panicked);
                self.fail(StopReason::Panicked, ctx);
                return;
            }
        };
        if events.is_empty() {
            if self.submitted <= self.settlement.durable() {
                let _ = reply.send(Outcome::Done(rendered));
            } else {
                self.held_reads.push((self.submitted, reply, rendered));
                if self.held_reads.len() == 1 {
                    self.advance(ctx);
                }
            }
            return;
        }
        let records = events
            .iter()
            .map(|e| NewEvent::new(self.twin_id.clone(), e))
            .collect();
        let seq = self.submitted + 1;
        let reply = ReplyWhenDurable {
            seq,
            reply,
            rendered,
            settlement: self.settlement.clone(),
        };
        match self.log.submit_to(records, reply) {
            Ok(()) => self.submitted = seq,
            Err(Refused { error, completion }) => {
                // Nothing was queued, but the state already holds the events: rebuild it.
                let _ = completion.reply.send(Outcome::Failed(error.clone()));
                self.fail(StopReason::AppendFailed(error.to_string()), ctx);
            }
        }
    }
}

impl<A: TwinAggregate> Handler<Settled> for TwinActor<A> {
    type Result = ();

    fn handle(&mut self, _: Settled, ctx: &mut Context<Self>) {
        self.advance(ctx);
    }
}

impl<A: TwinAggregate> TwinActor<A> {
    fn release_reads(&mut self) {
        let durable = self.settlement.durable();
        let (ready, waiting) = std::mem::take(&mut self.held_reads)
            .into_iter()
            .partition(|(after, ..)| *after <= durable);
        self.held_reads = waiting;
        for (_, reply, rendered) in ready {
            let _ = reply.send(Outcome::Done(rendered));
        }
    }

    /// Reads that saw the effects of append `seq` or later must not be served once it failed;
    /// they were never handled in any durable sense, so they are retried on the restarted actor.
    fn bounce_reads_after(&mut self, seq: u64) {
        let (stale, waiting) = std::mem::take(&mut self.held_reads)
            .into_iter()
            .partition(|(after, ..)| *after >= seq);
        self.held_reads = waiting;
        for (_, reply, _) in stale {
            let _ = reply.send(Outcome::ReadAgain);
        }
    }
}
