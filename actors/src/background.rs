//! Thread priority for work that follows the log rather than writes it (queries, webhook
//! deliveries): such threads run below the log writer and the HTTP workers, so that on a busy
//! machine ingestion keeps its cores and the followers catch up in the time left over.

/// How far below the normal priority a background thread runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundClass {
    /// Linux's `SCHED_IDLE`: the thread runs only on a core no normal thread wants, and a normal
    /// thread that wakes takes the core from it at once. A nice value only shares a core in
    /// proportion: the kernel's EEVDF scheduler lets a running thread finish its slice before a
    /// woken one, and each such wait delays the log writer's next commit. For work that holds
    /// nothing a normal thread waits for.
    Idle,
    /// Nice value [`BACKGROUND_THREAD_NICE`]: about a tenth of a normal thread's share of a
    /// contended core. For work that holds a lock a normal thread may wait for, where starving
    /// it would stall that thread too.
    Nice,
}

/// The nice value of [`BackgroundClass::Nice`] threads (0 is normal, 19 the lowest).
pub const BACKGROUND_THREAD_NICE: i32 = 10;

/// Moves the calling thread into `class`. On Linux both the scheduling policy and the nice
/// value are each thread's own, so this leaves the rest of the process alone. A failure leaves
/// the thread at its priority, which only costs isolation; `role` names the thread in the
/// warning.
pub fn lower_thread_priority(role: &'static str, class: BackgroundClass) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: each call only sets the calling thread's scheduling attributes (pid 0 and the
        // thread's own id both name it) and reads nothing but the parameter passed.
        let set = unsafe {
            match class {
                BackgroundClass::Idle => {
                    let param = libc::sched_param { sched_priority: 0 };
                    libc::sched_setscheduler(0, libc::SCHED_IDLE, &param)
                }
                BackgroundClass::Nice => libc::setpriority(
                    libc::PRIO_PROCESS,
                    libc::gettid() as libc::id_t,
                    BACKGROUND_THREAD_NICE,
                ),
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
