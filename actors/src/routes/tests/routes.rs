use std::path::Path;

use super::{append_telemetry, open_log, runtime};
use crate::routes::store::RouteStore;
use crate::routes::{Endpoints, EventRoute, EventRoutes, RouteError, RouteOptions};

fn endpoints() -> Endpoints {
    Endpoints::parse(
        Path::new("endpoints.toml"),
        "[[endpoints]]\nname = \"dashboard\"\nkind = \"sse\"\n",
    )
    .unwrap()
}

fn shown(id: &str, filter: &str) -> EventRoute {
    EventRoute {
        id: id.into(),
        endpoint_name: "dashboard".into(),
        filter: filter.into(),
    }
}

#[test]
fn routes_are_created_replaced_listed_and_deleted_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    {
        let log = open_log(dir.path());
        let head = rt.block_on(append_telemetry(&log, "t1", 3));
        let routes =
            EventRoutes::start(log.clone(), endpoints(), RouteOptions::new("test")).unwrap();
        rt.block_on(async {
            routes.put("b", "dashboard", "true").await.unwrap();
            routes.put("a", "dashboard", "false").await.unwrap();
            routes
                .put("a", "dashboard", "type = 'microsoft.iot.telemetry'")
                .await
                .unwrap();
            routes.put("gone", "dashboard", "true").await.unwrap();
            routes.delete("gone").await.unwrap();
        });
        assert_eq!(
            routes.list(),
            [
                shown("a", "type = 'microsoft.iot.telemetry'"),
                shown("b", "true")
            ]
        );
        assert_eq!(routes.get("b").unwrap(), shown("b", "true"));
        // A new route starts from the events committed after it.
        assert_eq!(RouteStore::new(&log).cursor("a").unwrap(), head);
        rt.block_on(routes.stop());
    }
    let log = open_log(dir.path());
    let routes = EventRoutes::start(log, endpoints(), RouteOptions::new("test")).unwrap();
    assert_eq!(routes.list().len(), 2);
    assert!(matches!(
        routes.get("gone"),
        Err(RouteError::NotFound { .. })
    ));
}

#[test]
fn bad_routes_are_refused_with_adt_codes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    let options = RouteOptions {
        routes_max: 1,
        ..RouteOptions::new("test")
    };
    let routes = EventRoutes::start(log, endpoints(), options).unwrap();
    let refused = |id: &str, endpoint: &str, filter: &str| {
        let error = rt.block_on(routes.put(id, endpoint, filter)).unwrap_err();
        (error.code(), error.status(), error.to_string())
    };
    let (code, status, _) = refused("a b", "dashboard", "true");
    assert_eq!((code, status), ("EventRouteIdInvalid", 400));
    let (code, _, _) = refused(&"x".repeat(65), "dashboard", "true");
    assert_eq!(code, "EventRouteIdInvalid");
    let (code, status, message) = refused("a", "nowhere", "true");
    assert_eq!((code, status), ("EventRouteEndpointInvalid", 400));
    assert!(message.contains("nowhere"), "{message}");
    let (code, status, message) = refused("a", "dashboard", "type = ");
    assert_eq!((code, status), ("EventRouteFilterInvalid", 400));
    assert!(message.contains("position 8"), "{message}");
    rt.block_on(routes.put("a", "dashboard", "true")).unwrap();
    let (code, status, _) = refused("b", "dashboard", "true");
    assert_eq!((code, status), ("LimitExceeded", 400));
    // Replacing an existing route is not a new one.
    rt.block_on(routes.put("a", "dashboard", "false")).unwrap();
    let missing = rt.block_on(routes.delete("b")).unwrap_err();
    assert_eq!(
        (missing.code(), missing.status()),
        ("EventRouteNotFound", 404)
    );
    let missing = rt.block_on(routes.dead_letters("b", 0, 10)).unwrap_err();
    assert_eq!(missing.code(), "EventRouteNotFound");
    let not_webhook = rt.block_on(routes.replay("a")).unwrap_err();
    assert_eq!(not_webhook.code(), "EventRouteEndpointInvalid");
}
