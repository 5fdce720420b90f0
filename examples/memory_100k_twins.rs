//! Resident memory with 100,000 active twins of a RealEstateCore model with ten properties.
//!
//! Run: `cargo run --release --example memory_100k_twins`. It prints the process's resident set
//! (VmRSS) after the models are loaded (the baseline) and again with every twin's actor active,
//! and the difference per twin.

#[path = "../benches/support.rs"]
mod support;

use std::time::{Duration, Instant};

use actix::{Arbiter, System};
use twinlog_actors::region::RegionOptions;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TWINS: u64 = 100_000;
const CLIENTS: u64 = 512;

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib / 1024.0
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let system = System::new();
    let arbiters: Vec<Arbiter> = (0..2).map(|_| Arbiter::new()).collect();
    system.block_on(async {
        let options = RegionOptions { idle_timeout: Duration::from_secs(3600), ..RegionOptions::new("memory") };
        let plane = support::realestatecore_plane(dir.path(), options, &arbiters).await;
        let baseline_mib = resident_mib();
        let started = Instant::now();
        let mut clients = Vec::new();
        for client in 0..CLIENTS {
            let plane = plane.clone();
            clients.push(actix_rt::spawn(async move {
                for n in (client..TWINS).step_by(CLIENTS as usize) {
                    plane.put_twin(&format!("equipment-{n}"), support::equipment_twin(n), false).await.expect("create a twin");
                }
            }));
        }
        for client in clients {
            client.await.expect("a client task");
        }
        let created_s = started.elapsed().as_secs_f64();
        let active = plane.supervisor().stats().active_twins();
        let loaded_mib = resident_mib();
        println!(
            "{TWINS} twins created in {created_s:.1} s; active twin actors: {active}; \
             resident memory: baseline (models loaded) {baseline_mib:.0} MiB, with the twins {loaded_mib:.0} MiB, \
             difference {:.0} MiB = {:.0} bytes per twin",
            loaded_mib - baseline_mib,
            (loaded_mib - baseline_mib) * 1024.0 * 1024.0 / TWINS as f64
        );
    });
    for arbiter in &arbiters {
        arbiter.stop();
    }
}
