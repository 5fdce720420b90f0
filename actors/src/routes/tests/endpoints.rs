use std::path::Path;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;

use crate::routes::endpoints::{Endpoint, Endpoints, EndpointsError, TIMEOUT_DEFAULT};
use crate::routes::policy::RetryPolicy;

const FILE: &str = "/etc/twinlog/endpoints.toml";

fn parse(text: &str) -> Result<Endpoints, EndpointsError> {
    Endpoints::parse(Path::new(FILE), text)
}

/// The message of a refused file, which must name the file.
fn refusal(text: &str) -> String {
    let message = parse(text).unwrap_err().to_string();
    assert!(message.contains(FILE), "{message}");
    message
}

#[test]
fn webhooks_take_defaults_and_their_own_settings_and_sse_endpoints_only_a_name() {
    let endpoints = parse(
        r#"
        [[endpoints]]
        name = "alerts"
        kind = "webhook"
        url = "https://hooks.example.com/twins"
        headers = { Authorization = "Bearer secret" }

        [[endpoints]]
        name = "slow"
        kind = "webhook"
        url = "http://127.0.0.1:9000/"
        timeout_ms = 250
        attempts_max = 2
        backoff_initial_ms = 10
        backoff_max_ms = 40

        [[endpoints]]
        name = "dashboard"
        kind = "sse"
        "#,
    )
    .unwrap();
    assert_eq!(endpoints.len(), 3);
    let Some(Endpoint::Webhook(alerts)) = endpoints.get("alerts") else {
        panic!("alerts is a webhook")
    };
    assert_eq!(alerts.url.as_str(), "https://hooks.example.com/twins");
    assert_eq!(alerts.timeout, TIMEOUT_DEFAULT);
    assert_eq!(alerts.retry, RetryPolicy::default());
    let authorization = &alerts.headers[AUTHORIZATION];
    assert_eq!(authorization, "Bearer secret");
    assert!(authorization.is_sensitive());
    assert!(!format!("{alerts:?}").contains("secret"));
    let Some(Endpoint::Webhook(slow)) = endpoints.get("slow") else {
        panic!("slow is a webhook")
    };
    assert_eq!(slow.timeout, Duration::from_millis(250));
    assert_eq!(
        slow.retry,
        RetryPolicy {
            backoff_initial: Duration::from_millis(10),
            backoff_max: Duration::from_millis(40),
            attempts_max: 2,
        }
    );
    assert!(matches!(endpoints.get("dashboard"), Some(Endpoint::Sse)));
    assert!(parse("").unwrap().is_empty());
}

#[test]
fn a_bad_file_is_refused_naming_the_file_and_the_field() {
    let webhook = |extra: &str| {
        format!("[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\n{extra}\n")
    };
    let cases = [
        (webhook("urll = \"x\""), "urll"),
        (webhook("timeout_ms = 0"), "timeout_ms"),
        (webhook("timeout_ms = \"fast\""), "timeout_ms"),
        (webhook("attempts_max = 0"), "attempts_max"),
        (webhook("backoff_initial_ms = 500\nbackoff_max_ms = 100"), "backoff_max_ms"),
        (webhook("headers = { \"Content-Type\" = \"text/plain\" }"), "headers"),
        (webhook("headers = { \"bad header\" = \"x\" }"), "bad header"),
        (
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"ftp://example.com/\"\n"
                .to_owned(),
            "url",
        ),
        (
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"not a url\"\n".to_owned(),
            "url",
        ),
        (
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\n".to_owned(),
            "url",
        ),
        (
            "[[endpoints]]\nname = \"hook\"\nkind = \"queue\"\n".to_owned(),
            "queue",
        ),
        ("[[endpoints]]\nname = \"\"\nkind = \"sse\"\n".to_owned(), "name"),
        (
            "[[endpoints]]\nname = \"d\"\nkind = \"sse\"\nurl = \"http://127.0.0.1:1/\"\n"
                .to_owned(),
            "`url` is for webhooks",
        ),
        (
            "[[endpoints]]\nname = \"a\"\nkind = \"sse\"\n[[endpoints]]\nname = \"a\"\nkind = \"sse\"\n"
                .to_owned(),
            "`a` is used 2 times",
        ),
        ("[[endpoint]]\nname = \"a\"\n".to_owned(), "endpoint"),
    ];
    for (text, named) in cases {
        let message = refusal(&text);
        assert!(message.contains(named), "{named}: {message}");
    }
}

#[test]
fn a_missing_file_is_refused_by_path() {
    let error = Endpoints::load(Path::new("/nonexistent/endpoints.toml")).unwrap_err();
    assert!(matches!(error, EndpointsError::Read { .. }));
    assert!(error.to_string().contains("/nonexistent/endpoints.toml"));
}
