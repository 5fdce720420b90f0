//! Thread priority for work that follows the log rather than writes it (queries, webhook
//! deliveries): such threads run below the log writer and the HTTP workers, so that on a busy
//! machine ingestion keeps its cores and the followers catch up in the time left over.

/// The nice value of background threads (0 is normal, 19 the lowest): a background thread
/// competing with normal threads for a core gets about a tenth of a normal thread's share.
pub const BACKGROUND_THREAD_NICE: i32 = 10;

/// Gives the calling thread the nice value [`BACKGROUND_THREAD_NICE`]. On Linux the nice value
/// is each thread's own, so this leaves the rest of the process alone. A failure leaves the
/// thread at its priority, which only costs isolation; `role` names the thread in the warning.
pub fn lower_thread_priority(role: &'static str) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: both calls only read or set the calling thread's scheduling attributes and
        // touch no memory of ours.
        let set = unsafe {
            libc::setpriority(
                libc::PRIO_PROCESS,
                libc::gettid() as libc::id_t,
                BACKGROUND_THREAD_NICE,
            )
        };
        if set != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                nice = BACKGROUND_THREAD_NICE,
                role,
                "a background thread keeps the normal priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = role;
}
