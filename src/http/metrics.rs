//! The Prometheus text exposition of `/metrics`: request counts and latency histograms per
//! route, method and status, the log's, the supervisor's and the read model's figures, and each
//! event route's delivery figures.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use twinlog_actors::data_plane::DataPlane;
use twinlog_actors::log::{wall_clock_ms, LogHead, BATCH_EVENTS_BUCKETS};
use twinlog_actors::routes::{EventRoutes, RouteStats};

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS_S: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    method: Method,
    route: String,
    status: u16,
}

/// One route's latencies: a count per bucket (not cumulative; the exposition sums them).
#[derive(Default)]
struct Series {
    buckets: [AtomicU64; LATENCY_BUCKETS_S.len() + 1],
    sum_us: AtomicU64,
}

/// The request figures. Recording takes a read lock and a few atomic adds; only a series' first
/// request takes the write lock.
#[derive(Default)]
pub struct Metrics {
    series: RwLock<HashMap<SeriesKey, Arc<Series>>>,
}

impl Metrics {
    pub fn observe(&self, method: &Method, route: &str, status: StatusCode, elapsed: Duration) {
        let key = SeriesKey {
            method: method.clone(),
            route: route.to_owned(),
            status: status.as_u16(),
        };
        let existing = self
            .series
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .cloned();
        let series = existing.unwrap_or_else(|| {
            self.series
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(key)
                .or_default()
                .clone()
        });
        let elapsed_s = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS_S
            .iter()
            .position(|&bound| elapsed_s <= bound)
            .unwrap_or(LATENCY_BUCKETS_S.len());
        series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        series
            .sum_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The whole exposition, in Prometheus text format 0.0.4. `read_model_lsn` is the LSN the
    /// query read model reflects.
    pub fn render(
        &self,
        data_plane: &DataPlane,
        read_model_lsn: u64,
        routes: &EventRoutes,
    ) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        let log = data_plane.log();
        let stats = log.stats();
        let supervisor = data_plane.supervisor().stats();
        let head_lsn = log.head().lsn;
        let figures: [(&str, &str, &str, f64); 8] = [
            (
                "twinlog_log_events_appended_total",
                "counter",
                "Events made durable since start.",
                stats.events.load(Ordering::Relaxed) as f64,
            ),
            (
                "twinlog_log_commits_total",
                "counter",
                "Log commits (one fsync each) since start.",
                stats.commits.load(Ordering::Relaxed) as f64,
            ),
            (
                "twinlog_log_head_lsn",
                "gauge",
                "LSN of the last durable record.",
                head_lsn as f64,
            ),
            (
                "twinlog_read_model_lag_events",
                "gauge",
                "Durable records the query read model does not reflect yet.",
                head_lsn.saturating_sub(read_model_lsn) as f64,
            ),
            (
                "twinlog_twins_active",
                "gauge",
                "Twin actors running.",
                supervisor.active_twins() as f64,
            ),
            (
                "twinlog_twin_restarts_total",
                "counter",
                "Twin actors restarted after a failure.",
                supervisor.restarts() as f64,
            ),
            (
                "twinlog_twin_panics_total",
                "counter",
                "Panics caught in twin actors.",
                supervisor.panics() as f64,
            ),
            (
                "twinlog_twins_quarantined",
                "gauge",
                "Twins refusing requests after repeated failures.",
                supervisor.quarantined_twins() as f64,
            ),
        ];
        for (name, kind, help, value) in figures {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        const BATCH: &str = "twinlog_log_commit_batch_events";
        let _ = writeln!(
            out,
            "# HELP {BATCH} Events per log commit.\n# TYPE {BATCH} histogram"
        );
        let events = stats.events.load(Ordering::Relaxed) as f64;
        write_histogram(
            &mut out,
            BATCH,
            "",
            &BATCH_EVENTS_BUCKETS,
            &stats.batch_events_counts(),
            events,
        );
        render_routes(&mut out, routes, &log.head());
        out
    }

    fn render_requests(&self, out: &mut String) {
        const COUNT: &str = "twinlog_http_requests_total";
        const LATENCY: &str = "twinlog_http_request_duration_seconds";
        let series = self
            .series
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut keys: Vec<&SeriesKey> = series.keys().collect();
        keys.sort_by(|a, b| {
            (&a.route, a.method.as_str(), a.status).cmp(&(&b.route, b.method.as_str(), b.status))
        });
        let labels = |key: &SeriesKey| {
            format!(
                r#"method="{}",route="{}",status="{}""#,
                key.method,
                escape(&key.route),
                key.status
            )
        };
        let _ = writeln!(out, "# HELP {COUNT} Requests answered, by route, method and status.\n# TYPE {COUNT} counter");
        let counts: Vec<u64> = keys.iter().map(|key| total(&series[*key])).collect();
        for (key, count) in keys.iter().zip(&counts) {
            let _ = writeln!(out, "{COUNT}{{{}}} {count}", labels(key));
        }
        let _ = writeln!(out, "# HELP {LATENCY} Request latency, from the first middleware to the reply.\n# TYPE {LATENCY} histogram");
        for key in &keys {
            let one = &series[*key];
            let counts: Vec<u64> = one
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            let sum_s = one.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
            write_histogram(
                out,
                LATENCY,
                &labels(key),
                &LATENCY_BUCKETS_S,
                &counts,
                sum_s,
            );
        }
    }
}

/// Each delivering event route's figures, labelled `eventroute` (apart from `route`, which
/// names HTTP routes).
fn render_routes(out: &mut String, routes: &EventRoutes, head: &LogHead) {
    let stats = routes.delivery_stats();
    let now_ms = wall_clock_ms();
    type Figure = fn(&RouteStats, &LogHead, u64) -> u64;
    let figures: [(&str, &str, &str, Figure); 9] = [
        (
            "twinlog_eventroute_lag_events",
            "gauge",
            "Committed records the route has not delivered (or dead-lettered, or filtered out) yet.",
            |stats, head, _| stats.lag_events(head),
        ),
        (
            "twinlog_eventroute_lag_ms",
            "gauge",
            "How long the oldest record the route has not dealt with has been committed.",
            |stats, head, now_ms| stats.lag_ms(head, now_ms),
        ),
        (
            "twinlog_eventroute_delivered_events_total",
            "counter",
            "Events the route's endpoint took.",
            |stats, _, _| stats.delivered_events.load(Ordering::Relaxed),
        ),
        (
            "twinlog_eventroute_delivery_failures_total",
            "counter",
            "Delivery attempts that failed (non-2xx, timeout, unreachable).",
            |stats, _, _| stats.failed_attempts.load(Ordering::Relaxed),
        ),
        (
            "twinlog_eventroute_dead_lettered_events_total",
            "counter",
            "Events stored as dead letters after their batch's last attempt failed.",
            |stats, _, _| stats.dead_lettered_events.load(Ordering::Relaxed),
        ),
        (
            "twinlog_eventroute_replayed_events_total",
            "counter",
            "Dead letters delivered by a replay.",
            |stats, _, _| stats.replayed_events.load(Ordering::Relaxed),
        ),
        (
            "twinlog_eventroute_dead_letters",
            "gauge",
            "Dead letters the route stores now.",
            |stats, _, _| stats.dead_letters.load(Ordering::Relaxed),
        ),
        (
            "twinlog_eventroute_holding",
            "gauge",
            "1 while the route's dead letters are full and it holds at a batch its endpoint refuses.",
            |stats, _, _| u64::from(stats.holding.load(Ordering::Relaxed)),
        ),
        (
            "twinlog_eventroute_behind_window",
            "gauge",
            "1 while the route is behind the routes' shared projection and reads the log itself.",
            |stats, _, _| u64::from(stats.behind_window.load(Ordering::Relaxed)),
        ),
    ];
    for (name, kind, help, figure) in figures {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (id, route) in &stats {
            let value = figure(route, head, now_ms);
            let _ = writeln!(out, r#"{name}{{eventroute="{}"}} {value}"#, escape(id));
        }
    }
}

/// One histogram's series: cumulative buckets, `+Inf`, sum and count. `counts` holds one count per
/// bound, not cumulative, then one for values above the last bound.
fn write_histogram<B: std::fmt::Display>(
    out: &mut String,
    name: &str,
    labels: &str,
    bounds: &[B],
    counts: &[u64],
    sum: f64,
) {
    let with = |extra: &str| match (labels.is_empty(), extra.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("{{{extra}}}"),
        (false, true) => format!("{{{labels}}}"),
        (false, false) => format!("{{{labels},{extra}}}"),
    };
    let mut cumulative = 0;
    for (bound, count) in bounds.iter().zip(counts) {
        cumulative += count;
        let _ = writeln!(
            out,
            "{name}_bucket{} {cumulative}",
            with(&format!(r#"le="{bound}""#))
        );
    }
    let total: u64 = counts.iter().sum();
    let _ = writeln!(out, "{name}_bucket{} {total}", with(r#"le="+Inf""#));
    let _ = writeln!(
        out,
        "{name}_sum{} {sum}\n{name}_count{} {total}",
        with(""),
        with("")
    );
}

fn total(series: &Series) -> u64 {
    series
        .buckets
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .sum()
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}
