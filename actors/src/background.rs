//! Thread priority for work that reads what the log holds rather than writes it (queries,
//! webhook deliveries): such threads run below the log writer, the read model's follower and the
//! HTTP workers, so that on a busy machine ingestion keeps its cores and the background work
//! catches up in the time left over.

/// Moves the calling thread under Linux's `SCHED_IDLE`: it then runs only on a core no normal
/// thread wants, and a normal thread that wakes takes the core from it at once. A nice value
/// would only share a core in proportion: the kernel's EEVDF scheduler lets a running thread
/// finish its slice before a woken one, and each such wait delays the log writer's next commit.
/// Only for work that holds nothing a normal thread waits for, since a starved thread may not run
/// for long.
///
/// The policy is each thread's own, so this leaves the rest of the process alone. A failure
/// leaves the thread at its priority, which only costs isolation; `role` names the thread in the
/// warning.
pub fn run_below_ingestion(role: &'static str) {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets only the calling thread's scheduling policy (pid 0 names it) and reads
        // nothing but the parameter passed.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                role,
                "a background thread keeps the normal priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = role;
}

#[cfg(test)]
mod tests;
