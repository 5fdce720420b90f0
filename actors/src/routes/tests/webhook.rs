use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{runtime, Receiver};
use crate::routes::webhook::{batch_body, PostError, Webhook, BATCH_CONTENT_TYPE};
use crate::routes::{Endpoint, Endpoints};

fn webhook(url: &str) -> Webhook {
    let endpoints = Endpoints::parse(
        Path::new("endpoints.toml"),
        &format!(
            "[[endpoints]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{url}\"\ntimeout_ms = 300\nheaders = {{ Authorization = \"Bearer s3cret\" }}\n"
        ),
    )
    .unwrap();
    let Some(Endpoint::Webhook(endpoint)) = endpoints.get("hook") else {
        panic!("hook is a webhook")
    };
    Webhook::new(endpoint.clone()).unwrap()
}

#[test]
fn a_batch_is_posted_as_a_cloudevents_json_array_with_the_endpoints_headers() {
    let receiver = Receiver::start();
    let rt = runtime();
    let body = batch_body(&[r#"{"id":"1"}"#, r#"{"id":"2"}"#]);
    assert_eq!(body, br#"[{"id":"1"},{"id":"2"}]"#);
    assert_eq!(batch_body::<&str>(&[]), b"[]");
    rt.block_on(webhook(&receiver.url).post(body)).unwrap();
    let seen = receiver.seen.lock().unwrap();
    assert_eq!(
        seen.as_slice(),
        [(
            BATCH_CONTENT_TYPE.to_owned(),
            "Bearer s3cret".to_owned(),
            r#"[{"id":"1"},{"id":"2"}]"#.to_owned()
        )]
    );
}

#[test]
fn non_2xx_stalls_and_refused_connections_are_failures_that_say_which() {
    let receiver = Receiver::start();
    let rt = runtime();
    let post = |url: String| rt.block_on(webhook(&url).post(b"[]".to_vec())).unwrap_err();
    receiver.status.store(500, Ordering::Relaxed);
    assert!(matches!(
        post(receiver.url.clone()),
        PostError::Status { status: 500, .. }
    ));
    receiver.status.store(307, Ordering::Relaxed);
    assert!(matches!(
        post(receiver.url.clone()),
        PostError::Status { status: 307, .. }
    ));
    let stalled = post(format!("{}/stall", receiver.url));
    assert!(
        matches!(
            stalled,
            PostError::Timeout {
                timeout_ms: 300,
                ..
            }
        ),
        "{stalled}"
    );
    // A port nobody listens on: bind one, then free it.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = post(format!("http://{free}/"));
    assert!(
        matches!(refused, PostError::Unreachable { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains(&free.to_string()), "{refused}");
}
