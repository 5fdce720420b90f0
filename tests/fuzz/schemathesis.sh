#!/usr/bin/env bash
# Fuzzes the real `twinlog serve` with schemathesis from its own /openapi.json, and fails on any
# 5xx, crash, or unclean shutdown (tests/fuzz/run_schemathesis.py does the work). Needs the
# Python clients from tests/sdk/requirements.txt (`bash scripts/test.sh` installs them).
# Extra arguments go to the runner, e.g. `--max-examples 100 --seed 7`.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet --bin twinlog
exec python3 -B tests/fuzz/run_schemathesis.py --twinlog "${CARGO_TARGET_DIR:-target}/debug/twinlog" "$@"
