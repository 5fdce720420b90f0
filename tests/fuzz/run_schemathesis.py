#!/usr/bin/env python3
"""Fuzzes a real `twinlog serve` with schemathesis, from the server's own /openapi.json.

Starts the server on a loopback port with a temporary data directory and an endpoints file, seeds
a few models, twins, a relationship and an event route (so that generated requests reach past
404), runs `schemathesis run` with the
`not_a_server_error` check for a bounded number of examples, and stops the server with SIGTERM.

Exits non-zero if any response is a 5xx, schemathesis reports an error, the server panicked,
died, stopped answering /healthz, or did not shut down cleanly.

    run_schemathesis.py --twinlog target/debug/twinlog [--max-examples 30] [--seed 1]
"""

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
API = "api-version=2023-10-31"
STARTUP_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 40
SCHEMATHESIS_TIMEOUT_S = 1200

MODELS = [
    {
        "@id": "dtmi:fuzz:Display;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "contents": [{"@type": "Property", "name": "brightness", "schema": "double"}],
    },
    {
        "@id": "dtmi:fuzz:Room;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "contents": [{"@type": "Property", "name": "name", "schema": "string"}],
    },
    {
        "@id": "dtmi:fuzz:Thermostat;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
        "contents": [
            {"@type": "Property", "name": "target", "schema": "double"},
            {"@type": "Telemetry", "name": "temperature", "schema": "double"},
            {"@type": "Component", "name": "display", "schema": "dtmi:fuzz:Display;1"},
            {"@type": "Relationship", "name": "locatedIn", "target": "dtmi:fuzz:Room;1"},
        ],
    },
]
# Path parameter name -> the seeded values the hooks may put there.
SEEDED = {
    "id": ["fuzz-thermostat", "fuzz-room", "dtmi:fuzz:Room;1", "dtmi:fuzz:Thermostat;1"],
    "component": ["display"],
    "relationship_id": ["fuzz-located-in"],
}
SEEDED["id"].append("fuzz-route")
# A webhook that nobody answers (so the seeded route fills its dead letters) and an SSE endpoint.
ENDPOINTS = """
[[endpoints]]
name = "fuzz-hook"
kind = "webhook"
url = "http://127.0.0.1:9/events"
timeout_ms = 200
attempts_max = 1

[[endpoints]]
name = "fuzz-feed"
kind = "sse"
"""


def start_server(twinlog, work):
    """Starts `twinlog serve` on 127.0.0.1 with a port the OS picks; returns it and its URL."""
    stderr = open(work / "server.stderr", "wb")
    endpoints = work / "endpoints.toml"
    endpoints.write_text(ENDPOINTS)
    server = subprocess.Popen(
        [twinlog, "serve", "--data-dir", str(work / "data"), "--listen", "127.0.0.1:0", "--workers", "2",
         "--endpoints-file", str(endpoints)],
        stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"},
    )
    first_line = []
    reader = threading.Thread(target=lambda: first_line.append(server.stdout.readline().decode()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    line = first_line[0] if first_line else ""
    if not line.startswith("listening on "):
        server.kill()
        raise SystemExit(f"twinlog serve printed no address (got {line!r}); stderr:\n{server_log(work)}")
    url = line.removeprefix("listening on ").strip()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while call(url, "GET", "/healthz")[0] != 200:
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit(f"{url}/healthz never answered 200; stderr:\n{server_log(work)}")
        time.sleep(0.1)
    return server, url


def call(url, method, path, body=None, content_type="application/json"):
    """One request; returns (status, body text). A connection failure is status 0."""
    separator = "&" if "?" in path else "?"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}{separator}{API}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def seed(url):
    """Models, two twins, a relationship and an event route for the fuzzer's requests to find."""
    steps = [
        ("PUT", "/eventroutes/fuzz-route", {"endpointName": "fuzz-hook", "filter": "true"}, 204),
        ("POST", "/models", MODELS, 201),
        ("PUT", "/digitaltwins/fuzz-room", {"$metadata": {"$model": "dtmi:fuzz:Room;1"}, "name": "r"}, 200),
        ("PUT", "/digitaltwins/fuzz-thermostat", {
            "$metadata": {"$model": "dtmi:fuzz:Thermostat;1"}, "target": 21.0,
            "display": {"$metadata": {}, "brightness": 0.5},
        }, 200),
        ("PUT", "/digitaltwins/fuzz-thermostat/relationships/fuzz-located-in",
         {"$relationshipName": "locatedIn", "$targetId": "fuzz-room"}, 200),
    ]
    for method, path, body, expected in steps:
        status, text = call(url, method, path, body)
        assert status == expected, f"seeding {method} {path}: {status} {text}"


def run_schemathesis(url, work, args):
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "TWINLOG_FUZZ_SEEDED": json.dumps(SEEDED),
    }
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
        "--checks", "not_a_server_error",
        "--max-examples", str(args.max_examples),
        "--seed", str(args.seed),
        "--workers", "1",  # 2 trips a CPython 3.11 ast race inside hypothesis
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--no-color",
        # GET /feed is an endless Server-Sent Events stream by design: a valid request never
        # ends, so each example would wait out the request timeout. Its parameter checks are
        # unit-tested in src/http/feed.rs and over a real socket in tests/change_feed_over_sse.rs.
        "--exclude-path", "/feed",
    ]
    print("$", " ".join(command), flush=True)
    # Runs inside the temporary directory, where hypothesis leaves its example database.
    try:
        return subprocess.run(command, cwd=work, env=env, timeout=SCHEMATHESIS_TIMEOUT_S).returncode
    except subprocess.TimeoutExpired:
        print(f"schemathesis did not finish in {SCHEMATHESIS_TIMEOUT_S} s", file=sys.stderr)
        return 1


def stop_server(server, url, work):
    """Checks the server outlived the fuzzing, then stops it; returns the problems found."""
    problems = []
    if server.poll() is not None:
        problems.append(f"the server died during fuzzing (exit {server.returncode})")
    elif call(url, "GET", "/healthz")[0] != 200:
        problems.append("the server no longer answers /healthz after fuzzing")
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(SHUTDOWN_TIMEOUT_S)
            if code != 0:
                problems.append(f"the server exited {code} on SIGTERM")
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            problems.append(f"the server did not stop within {SHUTDOWN_TIMEOUT_S} s of SIGTERM")
    if "panicked" in server_log(work):
        problems.append("the server panicked")
    return problems


def server_log(work):
    return (work / "server.stderr").read_text(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twinlog", required=True, help="the twinlog binary to serve")
    parser.add_argument("--max-examples", type=int, default=30, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1, help="schemathesis' random seed, for repeatable runs")
    args = parser.parse_args()
    try:
        import schemathesis  # noqa: F401  (only to fail early, with the fix)
    except ImportError:
        raise SystemExit("schemathesis is missing: `bash scripts/test.sh` installs tests/sdk/requirements.txt")
    with tempfile.TemporaryDirectory(prefix="twinlog-fuzz-") as tmp:
        work = pathlib.Path(tmp)
        server, url = start_server(os.path.abspath(args.twinlog), work)
        try:
            seed(url)
            code = run_schemathesis(url, work, args)
        finally:
            problems = stop_server(server, url, work)
        if code != 0:
            problems.append(f"schemathesis exited {code}: a 5xx, a crash or an error (see above)")
        if problems:
            print(f"server stderr (last 4000 chars):\n{server_log(work)[-4000:]}", file=sys.stderr)
            for problem in problems:
                print(f"FAIL: {problem}", file=sys.stderr)
            return 1
    print("fuzzing found no 5xx, and the server stayed up and stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
