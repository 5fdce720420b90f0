#!/usr/bin/env bash
# Instructions that `twinlog serve` executes per ingested telemetry event, counted by callgrind.
# Unlike throughput, the count hardly moves with the machine's load, so it can prove a change on a
# busy machine. Kernel time (fsync, sockets) is not counted: this is the server's own CPU work.
#
# Usage: scripts/ingest_instructions.sh single|batch [requests]   (after `cargo build --release
# --bin twinlog --example http_load`; honours CARGO_TARGET_DIR)
#
# The twins are created by the server running natively; then the same data directory is served
# under callgrind, warmed up (every twin's actor started) with counting off, and counted over
# exactly `requests` requests of the workload (the load generator's, examples/http_load.rs).
# Prints the instructions per event, the commits the log made for them, and the top functions
# (inclusive), and leaves callgrind's file for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."

workload=${1:?usage: $0 single|batch [requests]}
case $workload in
  single) requests=${2:-4000}; warm_up=10000; events_per_request=1 ;;
  batch) requests=${2:-8}; warm_up=10; events_per_request=1000 ;;
  *) echo "workload is single or batch, not $workload" >&2; exit 2 ;;
esac
release=${CARGO_TARGET_DIR:-target}/release
# As the load generator runs it: the per-request span is then off.
export RUST_LOG=${RUST_LOG:-warn}
load=$release/examples/http_load
work=$(mktemp -d)
out=${CALLGRIND_OUT:-$work/callgrind.out}
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work/data"
}
trap cleanup EXIT

# Starts the server as "$@" serve ..., and sets pid and url once it listens.
serve() {
  : >"$work/stdout"
  "$@" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
  pid=$!
  until grep -q '^listening on ' "$work/stdout"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.2
  done
  url=$(sed -n 's/^listening on //p' "$work/stdout" | head -1)
}

# The log's counter $1 from /metrics.
metric() { curl -s "$url/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }

serve "$release/twinlog"
"$load" --server "$url" --set-up >/dev/null
kill -TERM "$pid"; wait "$pid" || true; pid=

serve valgrind --tool=callgrind --instr-atstart=no ${CALLGRIND_ARGS:-} --callgrind-out-file="$out" "$release/twinlog"
"$load" --server "$url" --workload "$workload" --requests "$warm_up" >/dev/null
events_before=$(metric twinlog_log_events_appended_total)
commits_before=$(metric twinlog_log_commits_total)
callgrind_control --instr=on "$pid" >/dev/null
"$load" --server "$url" --workload "$workload" --requests "$requests"
callgrind_control --instr=off "$pid" >/dev/null
events=$(($(metric twinlog_log_events_appended_total) - events_before))
commits=$(($(metric twinlog_log_commits_total) - commits_before))
callgrind_control --dump "$pid" >/dev/null
sent=$((requests * events_per_request))
echo "workload $workload: $requests requests, $sent events sent, $events appended in $commits commits"
# One file, or one per thread with CALLGRIND_ARGS=--separate-threads=yes.
instructions=0
for dump in "$out".1*; do
  thread=$(awk '/^totals:/ { print $2 }' "$dump")
  instructions=$((instructions + thread))
  [ "$dump" = "$out.1" ] || [ $((thread / sent)) -eq 0 ] || echo "  $dump: $((thread / sent)) per event"
done
echo "instructions: $instructions total, $((instructions / sent)) per event"
[ -f "$out.1" ] && callgrind_annotate --inclusive=yes "$out.1" 2>/dev/null | sed -n '/^Ir/,$p' | head -40
echo "callgrind files: $out.1*"
