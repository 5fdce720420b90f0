//! Thread priority for work that reads what the log holds rather than writes it (queries,
//! webhook deliveries): such threads run below the log writer, the read model's follower and the
//! HTTP workers, so that on a busy machine ingestion keeps its cores and the background work
//! catches up in the time left over.

/// How far below the normal priority a background thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundClass {
    /// Linux's `SCHED_IDLE`: the thread runs only on a core no normal thread wants, and a normal
    /// thread that wakes takes the core from it at once. A nice value only shares a core in
    /// proportion: the kernel's EEVDF scheduler lets a running thread finish its slice before a
    /// woken one, and each such wait delays the log writer's next commit. Only for work that
    /// holds nothing a normal thread waits for, since a starved thread may not run for long.
    Idle,
}

/// Moves the calling thread into `class`. On Linux the scheduling policy is each thread's own,
/// so this leaves the rest of the process alone. A failure leaves the thread at its priority,
/// which only costs isolation; `role` names the thread in the warning.
pub fn lower_thread_priority(role: &'static str, class: BackgroundClass) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sets only the calling thread's scheduling policy (pid 0 names it) and reads
        // nothing but the parameter passed.
        let set = unsafe {
            match class {
                BackgroundClass::Idle => {
                    let param = libc::sched_param { sched_priority: 0 };
                    libc::sched_setscheduler(0, libc::SCHED_IDLE, &param)
                }
            }
        };
        if set != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                ?class,
                role,
                "a background thread keeps the normal priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (role, class);
}

#[cfg(test)]
mod tests;
