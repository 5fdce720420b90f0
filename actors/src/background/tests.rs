use super::run_below_ingestion;

#[cfg(target_os = "linux")]
#[test]
fn an_idle_thread_runs_under_sched_idle_and_leaves_its_process_alone() {
    // SAFETY: reads the calling thread's policy only.
    let policy = || unsafe { libc::sched_getscheduler(0) };
    let before = policy();
    let lowered = std::thread::spawn(move || {
        run_below_ingestion("test");
        policy()
    })
    .join()
    .unwrap();
    assert_eq!(lowered, libc::SCHED_IDLE);
    assert_eq!(policy(), before);
    assert_ne!(before, libc::SCHED_IDLE);
}
