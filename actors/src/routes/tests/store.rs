use twinlog_migrations::routes::{StoredDeadLetter, StoredRoute};

use super::{open_log, runtime};
use crate::routes::store::{self, DeadLetter, LoadedRoute, RouteStore};

fn route(endpoint: &str) -> StoredRoute {
    StoredRoute {
        endpoint_name: endpoint.into(),
        filter: "true".into(),
    }
}

fn letter(lsn: u64) -> DeadLetter {
    DeadLetter {
        lsn,
        letter: StoredDeadLetter {
            dead_lettered_ms: 1_000 + lsn,
            attempts: 3,
            reason: "HTTP 500".into(),
            event: format!(r#"{{"id":"{lsn}"}}"#),
        },
    }
}

#[test]
fn routes_cursors_and_dead_letters_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    {
        let log = open_log(dir.path());
        let store = RouteStore::new(&log);
        assert!(store.load().unwrap().is_empty());
        rt.block_on(async {
            log.write_side(store::put_route("b", &route("hook"), 7))
                .await
                .unwrap();
            log.write_side(store::put_route("a", &route("hook"), 3))
                .await
                .unwrap();
            // Replacing a route keeps its cursor.
            log.write_side(store::put_route("a", &route("other"), 99))
                .await
                .unwrap();
            log.write_side(store::advance("a", 12, &[letter(10), letter(11)]))
                .await
                .unwrap();
            log.write_side(store::advance("b", 20, &[letter(15)]))
                .await
                .unwrap();
        });
    }
    let log = open_log(dir.path());
    let store = RouteStore::new(&log);
    assert_eq!(
        store.load().unwrap(),
        [
            LoadedRoute {
                id: "a".into(),
                route: route("other"),
                cursor: 12
            },
            LoadedRoute {
                id: "b".into(),
                route: route("hook"),
                cursor: 20
            },
        ]
    );
    assert_eq!(store.cursor("a").unwrap(), 12);
    assert_eq!(store.cursor("none").unwrap(), 0);
    assert_eq!(
        store.dead_letters("a", 0, 10).unwrap(),
        [letter(10), letter(11)]
    );
    assert_eq!(store.dead_letters("a", 11, 10).unwrap(), [letter(11)]);
    assert_eq!(store.dead_letters("a", 0, 1).unwrap(), [letter(10)]);
    assert_eq!(store.dead_letters("b", 0, 10).unwrap(), [letter(15)]);
    assert_eq!(store.dead_letter_count("a").unwrap(), 2);
}

#[test]
fn deleting_a_route_removes_its_cursor_and_dead_letters_and_no_one_elses() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let log = open_log(dir.path());
    let store = RouteStore::new(&log);
    rt.block_on(async {
        for id in ["a", "a.b", "b"] {
            log.write_side(store::put_route(id, &route("hook"), 1))
                .await
                .unwrap();
            log.write_side(store::advance(id, 5, &[letter(2), letter(4)]))
                .await
                .unwrap();
        }
        log.write_side(store::delete_route("a")).await.unwrap();
        log.write_side(store::remove_dead_letters("b", [2]))
            .await
            .unwrap();
    });
    let ids: Vec<String> = store.load().unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["a.b", "b"]);
    assert_eq!(store.cursor("a").unwrap(), 0);
    assert_eq!(store.dead_letter_count("a").unwrap(), 0);
    assert_eq!(store.dead_letter_count("a.b").unwrap(), 2);
    assert_eq!(store.dead_letters("b", 0, 10).unwrap(), [letter(4)]);
}
