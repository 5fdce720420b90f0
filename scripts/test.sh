#!/usr/bin/env bash
# The README's test command. Installs the Python clients that the tests drive against the real
# server (tests/sdk/requirements.txt: Microsoft's ADT SDK, cryptography, schemathesis), then runs
# every Rust test. Safe to rerun: pip does nothing when the pinned versions are already there.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  -r tests/sdk/requirements.txt
cargo test --workspace "$@"
