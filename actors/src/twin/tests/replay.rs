//! Replay equality: whatever commands a twin was sent, replaying the events they produced into
//! a fresh state yields the same state. And no command, however malformed, panics.

use twinlog_dtdl::Dtmi;

use super::*;

/// A small deterministic generator (xorshift64), so that a failing sequence repeats.
pub(super) struct Dice(pub(super) u64);

impl Dice {
    pub(super) fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }

    pub(super) fn pick<T: Clone>(&mut self, choices: &[T]) -> T {
        choices[self.roll(choices.len())].clone()
    }
}

pub(super) const SEQUENCES: u64 = 40;
pub(super) const COMMANDS_PER_SEQUENCE: usize = 60;

fn bodies() -> Vec<Value> {
    vec![
        thermostat_body(),
        json!({"$metadata": {"$model": THERMOSTAT, "target": {"sourceTime": "2023-11-14T20:00:00Z"}}, "target": 1, "display": {"$metadata": {}}}),
        json!({"$metadata": {"$model": SENSOR}, "target": 3}),
        json!({"$metadata": {"$model": RETIRED}}),
        json!({"$metadata": 1}),
        json!([]),
        Value::Null,
    ]
}

fn patches() -> Vec<Value> {
    vec![
        json!([{"op": "replace", "path": "/target", "value": 30}]),
        json!([{"op": "add", "path": "/mode", "value": "cool"}]),
        json!([{"op": "remove", "path": "/mode"}]),
        json!([{"op": "add", "path": "/$metadata/target/sourceTime", "value": "2023-11-14T21:00:00Z"}]),
        json!([{"op": "replace", "path": "/display/brightness", "value": 5}]),
        json!([{"op": "add", "path": "/display/brightness", "value": 7}, {"op": "remove", "path": "/display/brightness"}]),
        json!([{"op": "replace", "path": "/$metadata/$model", "value": SENSOR}, {"op": "remove", "path": "/display"}, {"op": "remove", "path": "/mode"}]),
        json!([{"op": "replace", "path": "/$metadata/$model", "value": THERMOSTAT}, {"op": "add", "path": "/display", "value": {"$metadata": {}}}]),
        json!([{"op": "replace", "path": "/target", "value": "bad"}]),
        json!([{"op": "replace", "path": "/target", "value": 1}, {"op": "add", "path": "/mode", "value": "heat"}, {"op": "replace", "path": "/target", "value": 2}]),
        json!([{"op": "add", "path": "/target", "value": "bad"}, {"op": "replace", "path": "/mode", "value": "warm"}]),
        json!([{"op": "replace", "path": "/target", "value": {"$metadata": {}}}]),
        json!([{"op": "copy", "from": "/target", "path": "/x"}]),
        json!({"not": "a patch"}),
        json!([1, 2, 3]),
    ]
}

fn relationship_bodies() -> Vec<Value> {
    vec![
        json!({"$targetId": "room-1", "$relationshipName": "controls", "since": "2024-01-01T00:00:00Z"}),
        json!({"$targetId": "room-2", "$relationshipName": "controls"}),
        json!({"$targetId": "anyone", "$relationshipName": "notifies"}),
        json!({"$targetId": "t1", "$relationshipName": "notifies"}),
        json!({"$targetId": "room-1", "$relationshipName": "controls", "since": 5}),
        json!({"$relationshipName": "controls"}),
        json!("relationship"),
    ]
}

pub(super) fn random_command(dice: &mut Dice, at_ms: u64) -> TwinCommand {
    let if_match = dice.pick(&[
        None,
        Some(IfMatch::Any),
        Some(IfMatch::OneOf(vec![etag(dice.0 % 8)])),
    ]);
    let relationship_id = dice.pick(&["r1", "r2", "r3"]).to_owned();
    match dice.roll(8) {
        0 => TwinCommand::Replace(ReplaceTwin {
            body: dice.pick(&bodies()),
            if_none_match_any: dice.roll(4) == 0,
            models: models(),
            at_ms,
        }),
        1 | 2 => TwinCommand::Patch(PatchTwin {
            patch: dice.pick(&patches()),
            component: None,
            if_match,
            models: models(),
            at_ms,
        }),
        3 => TwinCommand::Delete(DeleteTwin {
            if_match,
            incoming_relationships: dice.roll(2),
            at_ms,
        }),
        4 => TwinCommand::ReplaceRelationship(ReplaceRelationship {
            relationship_id,
            body: dice.pick(&relationship_bodies()),
            target_model: dice
                .pick(&[None, Some(ROOM), Some(SENSOR)])
                .map(|id| id.parse::<Dtmi>().unwrap()),
            if_none_match_any: dice.roll(4) == 0,
            models: models(),
            at_ms,
        }),
        5 => TwinCommand::PatchRelationship(PatchRelationship {
            relationship_id,
            patch: dice.pick(&[
                json!([{"op": "add", "path": "/since", "value": "2025-01-01T00:00:00Z"}]),
                json!([{"op": "remove", "path": "/since"}]),
                json!([{"op": "replace", "path": "/$targetId", "value": "x"}]),
            ]),
            if_match,
            models: models(),
            at_ms,
        }),
        6 => TwinCommand::DeleteRelationship(DeleteRelationship {
            relationship_id,
            if_match,
            at_ms,
        }),
        _ => TwinCommand::SendTelemetry(SendTelemetry {
            message_id: format!("m{}", dice.roll(12)),
            source_time: None,
            component: dice.pick(&[None, Some("display".to_owned()), Some("screen".to_owned())]),
            body: dice.pick(&[
                json!({"temperature": 1}),
                json!({"frames": 2}),
                json!({"temperature": "x"}),
                json!(3),
            ]),
            models: models(),
        }),
    }
}

#[test]
fn replaying_the_events_of_random_commands_rebuilds_the_same_state() {
    let mut recorded = 0;
    for seed in 1..=SEQUENCES {
        let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut live = TwinState::new("t1");
        let mut log = Vec::new();
        for step in 0..COMMANDS_PER_SEQUENCE {
            let at_ms = AT_MS + step as u64 * 1_000;
            match run(&mut live, random_command(&mut dice, at_ms)) {
                Ok(events) => log.extend(events),
                Err(refusal) => assert!(matches!(refusal.status(), 400 | 404 | 412), "{refusal}"),
            }
        }
        let mut replayed = TwinState::new("t1");
        for event in &log {
            replayed.apply(event);
        }
        assert_eq!(replayed, live, "seed {seed}");
        assert_eq!(replayed.version(), log.len() as u64);
        assert_eq!(replayed.twin_document().ok(), live.twin_document().ok());
        recorded += log.len();
    }
    assert!(
        recorded as u64 > SEQUENCES * 5,
        "the sequences do something: {recorded} events"
    );
}

#[test]
#[should_panic(expected = "does not apply")]
fn an_event_that_cannot_apply_is_a_disagreement_between_log_and_code() {
    TwinState::new("t1").apply(&Event::TwinPatched {
        at_ms: AT_MS,
        patch: "[]".into(),
    });
}

#[test]
fn traced_commands_decide_and_apply_exactly_as_the_commands_they_wrap() {
    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut traced_events = 0;
    for seed in 1..=SEQUENCES {
        let mut dice = Dice(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut plain = TwinState::new("t1");
        let mut traced = TwinState::new("t1");
        let mut traced_log = Vec::new();
        for step in 0..COMMANDS_PER_SEQUENCE {
            let command = random_command(&mut dice, AT_MS + step as u64 * 1_000);
            let wrapped = TwinCommand::Traced {
                traceparent: TRACEPARENT.to_owned(),
                command: Box::new(command.clone()),
            };
            let expected = run(&mut plain, command);
            let found = run(&mut traced, wrapped);
            match (expected, found) {
                (Ok(expected), Ok(found)) => {
                    let unwrapped: Vec<Event> =
                        found.iter().map(|e| e.untraced().clone()).collect();
                    assert_eq!(unwrapped, expected, "seed {seed}");
                    assert!(found.iter().all(|e| e.traceparent() == Some(TRACEPARENT)));
                    traced_log.extend(found);
                }
                (Err(expected), Err(found)) => assert_eq!(found.to_string(), expected.to_string()),
                (expected, found) => panic!("seed {seed}: {expected:?} but traced {found:?}"),
            }
            assert_eq!(traced, plain, "seed {seed}");
        }
        let mut replayed = TwinState::new("t1");
        for event in &traced_log {
            replayed.apply(event);
        }
        assert_eq!(replayed, plain, "seed {seed}");
        traced_events += traced_log.len();
    }
    assert!(
        traced_events as u64 > SEQUENCES * 5,
        "{traced_events} traced events"
    );
}
