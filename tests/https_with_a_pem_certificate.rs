//! `--tls-cert`/`--tls-key` serve HTTPS with the given PEM certificate. The certificate is made
//! for the test with `openssl`, and `curl` checks the server against it.

mod server;

use std::process::Command;

use server::Server;

#[test]
fn https_is_served_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl makes the test certificate");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = Server::start_without_probe(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let fetched = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--retry",
            "20",
            "--retry-connrefused",
        ])
        .arg("--cacert")
        .arg(&cert)
        .arg(format!("{}/models?{}", server.url, server::API))
        .output()
        .expect("curl runs");
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&fetched.stdout), r#"{"value":[]}"#);
}
