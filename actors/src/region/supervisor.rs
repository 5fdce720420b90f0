//! The region supervisor: finds or starts a twin's actor, hands it requests, and restarts,
//! backs off or quarantines it when it fails, so that one twin's failure never reaches another.

use std::any::Any;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::{Actor, Addr, ArbiterHandle};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use tokio::sync::oneshot;

use super::policy::RestartPolicy;
use super::twin_actor::{Outcome, Render, StopReason, TwinActor, TwinRequest};
use super::TwinAggregate;
use crate::aggregate::Aggregate;
use crate::log::{AppendError, EventLog};

/// How the region runs its twins.
#[derive(Debug, Clone)]
pub struct RegionOptions {
    pub region: String,
    pub restart: RestartPolicy,
    /// A twin with this many requests outstanding refuses more (ADT allows 500 per twin).
    pub outstanding_max: usize,
    /// An actor with nothing to do for this long stops; its next request starts it again.
    pub idle_timeout: Duration,
    /// Whether `arm_chaos` may inject panics (tests and drills only).
    pub chaos: bool,
}

impl RegionOptions {
    pub fn new(region: &str) -> RegionOptions {
        RegionOptions {
            region: region.to_owned(),
            restart: RestartPolicy::default(),
            outstanding_max: 500,
            idle_timeout: Duration::from_secs(300),
            chaos: false,
        }
    }
}

/// Why a request to a twin failed. The aggregate's own refusals come as `Rejected`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TwinFailure<E> {
    #[error(transparent)]
    Rejected(E),
    #[error("twin `{twin_id}` failed while handling this request; it is restarting from the log")]
    Panicked { twin_id: String },
    #[error(
        "twin `{twin_id}` is quarantined after {restarts} restarts; retry in {retry_after_s} s"
    )]
    Quarantined {
        twin_id: String,
        restarts: usize,
        retry_after_s: u64,
    },
    #[error("twin `{twin_id}` has {outstanding_max} requests outstanding; retry later")]
    Busy {
        twin_id: String,
        outstanding_max: usize,
    },
    #[error("twin `{twin_id}`: {source}")]
    Storage {
        twin_id: String,
        #[source]
        source: AppendError,
    },
    #[error("twin `{twin_id}` is unavailable: {reason}")]
    Unavailable { twin_id: String, reason: String },
}

/// The supervisor's figures, for the metrics endpoint.
#[derive(Debug, Default)]
pub struct SupervisorStats {
    active: AtomicU64,
    restarts: AtomicU64,
    panics: AtomicU64,
    quarantined: AtomicU64,
}

impl SupervisorStats {
    pub fn active_twins(&self) -> u64 {
        self.active.load(Ordering::Relaxed)
    }
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }
    pub fn quarantined_twins(&self) -> u64 {
        self.quarantined.load(Ordering::Relaxed)
    }
    pub(super) fn count_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }
}

const SHARDS: usize = 64;
/// How often one request is retried on a restarted actor before giving up. The waits between
/// attempts grow as the restarts' own backoff does ([`RestartPolicy::backoff`]), so the attempts
/// outlast the wait before a restart and its replay, however slow a loaded machine makes them.
const REQUEST_ATTEMPTS_MAX: usize = 16;

enum SlotState {
    /// An actor is running (or starting) under this generation.
    Running(Box<dyn Any + Send>),
    /// The actor stopped after a failure; the next request starts one after `not_before`.
    Restarting {
        not_before: Instant,
    },
    Quarantined {
        until: Instant,
    },
}

struct Slot {
    generation: u64,
    state: SlotState,
    /// Restarts within the policy's window, oldest first.
    restarts: VecDeque<Instant>,
}

/// What actors and the supervisor share: the slots, the figures, the chaos switch.
pub(super) struct Shared {
    pub options: RegionOptions,
    pub stats: SupervisorStats,
    shards: Vec<Mutex<FxHashMap<Arc<str>, Slot>>>,
    chaos: Mutex<FxHashSet<Arc<str>>>,
    next_generation: AtomicU64,
}

impl Shared {
    fn shard(&self, twin_id: &str) -> MutexGuard<'_, FxHashMap<Arc<str>, Slot>> {
        let mut hasher = FxHasher::default();
        twin_id.hash(&mut hasher);
        let shard = &self.shards[hasher.finish() as usize % SHARDS];
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `twin_id`'s next command must panic (and disarm it).
    pub(super) fn take_chaos(&self, twin_id: &str) -> bool {
        self.options.chaos
            && self
                .chaos
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(twin_id)
    }

    /// Called by an actor as it stops.
    pub(super) fn on_stopped(&self, twin_id: &Arc<str>, generation: u64, reason: StopReason) {
        self.stats.active.fetch_sub(1, Ordering::Relaxed);
        let mut shard = self.shard(twin_id);
        let Some(slot) = shard.get_mut(twin_id) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        if reason == StopReason::Idle && slot.restarts.is_empty() {
            shard.remove(twin_id);
            return;
        }
        let now = Instant::now();
        let policy = &self.options.restart;
        if reason != StopReason::Idle {
            while slot
                .restarts
                .front()
                .is_some_and(|t| now.duration_since(*t) > policy.limit.window)
            {
                slot.restarts.pop_front();
            }
            slot.restarts.push_back(now);
            self.stats.restarts.fetch_add(1, Ordering::Relaxed);
        }
        if slot.restarts.len() > policy.limit.restarts {
            tracing::error!(twin_id = %twin_id, restarts = slot.restarts.len(), "twin quarantined");
            self.stats.quarantined.fetch_add(1, Ordering::Relaxed);
            slot.state = SlotState::Quarantined {
                until: now + policy.quarantine_cooldown,
            };
        } else {
            let not_before = now + policy.backoff(slot.restarts.len());
            slot.state = SlotState::Restarting { not_before };
        }
    }
}

/// A command [`RegionSupervisor::dispatch`]ed to a twin, whose answer is awaited with
/// [`RegionSupervisor::answer`]. It keeps the command, to send it again should its actor fail
/// before handling it.
pub struct Dispatched<A: TwinAggregate> {
    twin_id: String,
    command: A::Command,
    sent: Sent<A>,
}

/// An attempt to hand a request to an actor: the receiver of its answer, `None` if no actor can
/// take it yet, or why it was refused at once.
type Sent<A> = Result<Option<oneshot::Receiver<Outcome<A>>>, TwinFailure<<A as Aggregate>::Error>>;

/// A request's answer as its caller sees it: what its read gave, or why it failed.
type Settled<A> = Result<Box<dyn Any + Send>, TwinFailure<<A as Aggregate>::Error>>;

/// The region's twins. Cheap to clone.
pub struct RegionSupervisor<A: TwinAggregate> {
    shared: Arc<Shared>,
    log: EventLog,
    arbiters: Arc<Vec<ArbiterHandle>>,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A: TwinAggregate> Clone for RegionSupervisor<A> {
    fn clone(&self) -> Self {
        RegionSupervisor {
            shared: self.shared.clone(),
            log: self.log.clone(),
            arbiters: self.arbiters.clone(),
            _aggregate: PhantomData,
        }
    }
}

impl<A: TwinAggregate> RegionSupervisor<A> {
    /// A supervisor whose actors run on `arbiters`, one twin always on the same one.
    pub fn new(log: EventLog, options: RegionOptions, arbiters: Vec<ArbiterHandle>) -> Self {
        assert!(!arbiters.is_empty(), "a region needs at least one arbiter");
        RegionSupervisor {
            shared: Arc::new(Shared {
                options,
                stats: SupervisorStats::default(),
                shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
                chaos: Mutex::default(),
                next_generation: AtomicU64::new(1),
            }),
            log,
            arbiters: Arc::new(arbiters),
            _aggregate: PhantomData,
        }
    }

    pub fn stats(&self) -> &SupervisorStats {
        &self.shared.stats
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Makes `twin_id`'s next command panic inside its handler. Refused unless chaos is enabled.
    pub fn arm_chaos(&self, twin_id: &str) -> bool {
        if self.shared.options.chaos {
            self.shared
                .chaos
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(Arc::from(twin_id));
        }
        self.shared.options.chaos
    }

    /// Lets a quarantined twin start again at once. Returns whether it was quarantined.
    pub fn clear_quarantine(&self, twin_id: &str) -> bool {
        let mut shard = self.shared.shard(twin_id);
        match shard.get(twin_id) {
            Some(Slot {
                state: SlotState::Quarantined { .. },
                ..
            }) => {
                shard.remove(twin_id);
                self.shared
                    .stats
                    .quarantined
                    .fetch_sub(1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Runs `command` (if any) on `twin_id`, then `read` on its state; answers once the decision is
    /// durable. Requests a failing actor never handled are retried on its restarted successor.
    pub async fn request<R: Send + 'static>(
        &self,
        twin_id: &str,
        command: Option<A::Command>,
        read: impl Fn(&A) -> R + Send + Sync + 'static,
    ) -> Result<R, TwinFailure<A::Error>> {
        let render: Render<A> =
            Arc::new(move |state: &A| Box::new(read(state)) as Box<dyn Any + Send>);
        for attempt in 1..=REQUEST_ATTEMPTS_MAX {
            let retry_wait = self.shared.options.restart.backoff(attempt);
            let outcome = match self.send(twin_id, command.clone(), render.clone())? {
                Some(outcome) => outcome.await,
                None => {
                    tokio::time::sleep(retry_wait).await;
                    continue;
                }
            };
            match self.settle(twin_id, outcome) {
                Some(settled) => {
                    return settled.map(|value| {
                        *value
                            .downcast::<R>()
                            .expect("a request's read returns its own type")
                    })
                }
                None => tokio::time::sleep(retry_wait).await,
            }
        }
        Err(TwinFailure::Unavailable {
            twin_id: twin_id.to_owned(),
            reason: format!("still restarting after {REQUEST_ATTEMPTS_MAX} attempts"),
        })
    }

    /// Sends `command` to `twin_id` at once and returns without waiting for its answer, which
    /// [`RegionSupervisor::answer`] gives: for a caller that keeps many commands in flight, each
    /// twin getting its own in the order they are dispatched.
    pub fn dispatch(&self, twin_id: &str, command: A::Command) -> Dispatched<A> {
        let render: Render<A> = Arc::new(|_: &A| Box::new(()) as Box<dyn Any + Send>);
        let sent = self.send(twin_id, Some(command.clone()), render);
        Dispatched {
            twin_id: twin_id.to_owned(),
            command,
            sent,
        }
    }

    /// Waits for the answer to a dispatched command: once its events are durable, or why none
    /// are. One that its actor never handled is sent again, as [`RegionSupervisor::request`] does.
    pub async fn answer(&self, dispatched: Dispatched<A>) -> Result<(), TwinFailure<A::Error>> {
        let Dispatched {
            twin_id,
            command,
            sent,
        } = dispatched;
        if let Some(outcome) = sent? {
            if let Some(settled) = self.settle(&twin_id, outcome.await) {
                return settled.map(drop);
            }
        }
        self.request(&twin_id, Some(command), |_| ()).await
    }

    /// One attempt: the request handed to the twin's actor, whose answer comes through the
    /// receiver (`None`: no actor can take it yet, wait and try again).
    fn send(&self, twin_id: &str, command: Option<A::Command>, render: Render<A>) -> Sent<A> {
        let Some(addr) = self.address(twin_id)? else {
            return Ok(None);
        };
        let (reply, outcome) = oneshot::channel();
        let request = TwinRequest {
            command,
            render,
            reply,
        };
        match addr.try_send(request) {
            Ok(()) => Ok(Some(outcome)),
            Err(actix::prelude::SendError::Full(_)) => Err(TwinFailure::Busy {
                twin_id: twin_id.to_owned(),
                outstanding_max: self.shared.options.outstanding_max,
            }),
            Err(actix::prelude::SendError::Closed(_)) => Ok(None),
        }
    }

    /// What an attempt's answer means for the caller (`None`: it was never handled, and is safe
    /// to send again).
    fn settle(
        &self,
        twin_id: &str,
        outcome: Result<Outcome<A>, oneshot::error::RecvError>,
    ) -> Option<Settled<A>> {
        let failure = match outcome {
            Ok(Outcome::Done(value)) => return Some(Ok(value)),
            Ok(Outcome::Rejected(error)) => TwinFailure::Rejected(error),
            Ok(Outcome::Panicked) => TwinFailure::Panicked {
                twin_id: twin_id.to_owned(),
            },
            Ok(Outcome::Failed(source)) => TwinFailure::Storage {
                twin_id: twin_id.to_owned(),
                source,
            },
            Ok(Outcome::Busy) => TwinFailure::Busy {
                twin_id: twin_id.to_owned(),
                outstanding_max: self.shared.options.outstanding_max,
            },
            // Never handled (bounced by a failing actor, or dropped from the mailbox of one that
            // stopped: an actor stops only once every request it handled has its reply).
            Ok(Outcome::Bounced | Outcome::ReadAgain) | Err(_) => return None,
        };
        Some(Err(failure))
    }

    /// The twin's running actor, starting one if there is none and its backoff has passed
    /// (`None`: wait and ask again).
    fn address(&self, twin_id: &str) -> Result<Option<Addr<TwinActor<A>>>, TwinFailure<A::Error>> {
        let mut shard = self.shared.shard(twin_id);
        // Asked only off the path of a running twin, which needs no clock.
        let now = Instant::now;
        let delay = match shard.get(twin_id) {
            Some(Slot {
                state: SlotState::Running(addr),
                ..
            }) => {
                let addr = addr
                    .downcast_ref::<Addr<TwinActor<A>>>()
                    .expect("one aggregate per region");
                if addr.connected() {
                    return Ok(Some(addr.clone()));
                }
                // Stopped, and its notice is on the way: wait for it.
                return Ok(None);
            }
            Some(Slot {
                state: SlotState::Quarantined { until },
                restarts,
                ..
            }) => {
                let now = now();
                if now < *until {
                    return Err(TwinFailure::Quarantined {
                        twin_id: twin_id.to_string(),
                        restarts: restarts.len(),
                        retry_after_s: until.duration_since(now).as_secs().max(1),
                    });
                }
                self.shared
                    .stats
                    .quarantined
                    .fetch_sub(1, Ordering::Relaxed);
                shard.remove(twin_id);
                Duration::ZERO
            }
            Some(Slot {
                state: SlotState::Restarting { not_before },
                ..
            }) => not_before.saturating_duration_since(now()),
            None => Duration::ZERO,
        };
        // Only a start allocates the twin's id: a running twin is found by `&str`.
        let twin_id: Arc<str> = Arc::from(twin_id);
        let generation = self.shared.next_generation.fetch_add(1, Ordering::Relaxed);
        let arbiter = &self.arbiters[shard_index(&twin_id) % self.arbiters.len()];
        let (id, shared, log) = (twin_id.clone(), self.shared.clone(), self.log.clone());
        let addr = TwinActor::start_in_arbiter(arbiter, move |ctx| {
            TwinActor::<A>::new(id, generation, shared, log, delay, ctx)
        });
        self.shared.stats.active.fetch_add(1, Ordering::Relaxed);
        let restarts = shard
            .remove(&twin_id)
            .map(|slot| slot.restarts)
            .unwrap_or_default();
        shard.insert(
            twin_id,
            Slot {
                generation,
                state: SlotState::Running(Box::new(addr.clone())),
                restarts,
            },
        );
        Ok(Some(addr))
    }
}

fn shard_index(twin_id: &str) -> usize {
    let mut hasher = FxHasher::default();
    twin_id.hash(&mut hasher);
    (hasher.finish() >> 32) as usize
}
