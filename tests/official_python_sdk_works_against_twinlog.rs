//! Microsoft's official ADT Python SDK (`azure-digitaltwins-core`) works against the real
//! `twinlog serve`, unchanged: over HTTPS verified against the test's own certificate, with an
//! owner's and a reader's bearer token from `twinlog token new`, it uploads a slice of
//! RealEstateCore, builds twins and relationships, patches with ETags, queries (as owner and
//! reader, paging through continuation tokens), sends telemetry, creates and deletes event routes,
//! deletes what it made, and gets ADT's exception types for ADT's errors
//! (tests/sdk/adt_sdk_roundtrip.py).
//!
//! The Python packages come from tests/sdk/requirements.txt, which `bash scripts/test.sh`
//! installs. Without them this test fails rather than skips.

mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{Server, BIN};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/sdk/adt_sdk_roundtrip.py"
);
const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/dtdl/realestatecore");
const SETUP: &str = "install the Python test clients as the README says: `bash scripts/test.sh` \
                     (or `python3 -m pip install -r tests/sdk/requirements.txt`)";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn official_python_sdk_round_trips_against_twinlog() {
    require_python_clients();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_certificate(dir.path());
    let auth_file = dir.path().join("auth.toml");
    let owner = new_token(&auth_file, "sdk", "owner");
    let reader = new_token(&auth_file, "sdk-reader", "reader");
    // The script's event routes go to an SSE endpoint: nothing is pushed anywhere.
    let endpoints = dir.path().join("endpoints.toml");
    std::fs::write(
        &endpoints,
        "[[endpoints]]\nname = \"sdk-feed\"\nkind = \"sse\"\n",
    )
    .unwrap();
    let server = Server::start_without_probe(
        &dir.path().join("data"),
        &[
            "--endpoints-file",
            path_str(&endpoints),
            "--auth-file",
            path_str(&auth_file),
            "--tls-cert",
            path_str(&cert),
            "--tls-key",
            path_str(&key),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    let (succeeded, output) = run_python(
        dir.path(),
        &[
            "--endpoint",
            &server.url,
            "--token",
            &owner,
            "--reader-token",
            &reader,
            "--ca",
            path_str(&cert),
            "--models-dir",
            MODELS,
        ],
    );
    assert!(succeeded, "the SDK round trip failed:\n{output}");
    assert!(
        output.contains("the official SDK round trip passed"),
        "{output}"
    );
}

/// Fails, naming the setup step, unless python3 can import the SDK and `cryptography`.
fn require_python_clients() {
    let imported = Command::new("python3")
        .args([
            "-c",
            "import azure.digitaltwins.core, azure.core, cryptography",
        ])
        .output()
        .unwrap_or_else(|error| panic!("python3 cannot be run ({error}); {SETUP}"));
    assert!(
        imported.status.success(),
        "the Python test clients are missing; {SETUP}\n{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost, made by the script with `cryptography`.
fn make_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (made, output) = run_python(dir, &["--make-cert", path_str(dir)]);
    assert!(made, "making the test certificate failed:\n{output}");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Appends a fresh token's stanza to `auth_file` and returns the token.
fn new_token(auth_file: &Path, name: &str, role: &str) -> String {
    let made = Command::new(BIN)
        .args(["token", "new", "--name", name, "--role", role])
        .output()
        .expect("twinlog token new runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut stanzas = std::fs::read(auth_file).unwrap_or_default();
    stanzas.extend_from_slice(&made.stdout);
    std::fs::write(auth_file, stanzas).unwrap();
    let stderr = String::from_utf8(made.stderr).unwrap();
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("twinlog token new printed no token: {stderr}"))
        .trim()
        .to_owned()
}

/// Runs the script with `args`, killed after [`SCRIPT_TIMEOUT`]; returns whether it exited 0, and
/// its stdout and stderr. Output goes through files in `dir`, so a chatty run cannot fill a pipe.
fn run_python(dir: &Path, args: &[&str]) -> (bool, String) {
    let (out, err) = (dir.join("python.out"), dir.join("python.err"));
    let mut child = Command::new("python3")
        .arg("-B") // no __pycache__ in the source tree
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|error| panic!("python3 cannot be run ({error}); {SETUP}"));
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!(
        "{}{}{}",
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default(),
        if status.is_none() {
            format!("\nkilled after {SCRIPT_TIMEOUT:?}")
        } else {
            String::new()
        }
    );
    (status.is_some_and(|status| status.success()), output)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
