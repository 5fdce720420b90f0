//! Validating only what a patch sets answers exactly as validating the whole patched document.

use super::replay::{random_command, Dice, COMMANDS_PER_SEQUENCE, SEQUENCES};
use super::*;

/// A clone forgets what was validated, so it decides every command by validating the whole.
#[test]
fn deciding_with_what_was_validated_answers_as_validating_the_whole() {
    for seed in 1..=SEQUENCES {
        let mut dice = Dice(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let mut live = TwinState::new("t1");
        for step in 0..COMMANDS_PER_SEQUENCE {
            let command = random_command(&mut dice, AT_MS + step as u64 * 1_000);
            let whole = live.clone().handle(command.clone());
            assert_eq!(run(&mut live, command), whole, "seed {seed} step {step}");
        }
    }
}

const GAUGE: &str = "dtmi:test:Gauge;1";

fn gauge(level_schema: &str) -> ModelCommand {
    ModelCommand::Upload {
        models: json!([{
            "@id": GAUGE, "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [
                {"@type": "Property", "name": "level", "schema": level_schema},
                {"@type": "Property", "name": "label", "schema": "string"}
            ]
        }]),
        at_ms: AT_MS,
    }
}

fn patch_label(models: &Arc<ModelRegistry>) -> TwinCommand {
    TwinCommand::Patch(PatchTwin {
        patch: json!([{"op": "replace", "path": "/label", "value": "b"}]),
        component: None,
        if_match: None,
        models: models.clone(),
        at_ms: LATER_MS,
    })
}

#[test]
fn a_model_uploaded_again_with_other_contents_is_validated_whole() {
    let mut registry = ModelRegistry::new();
    execute(&mut registry, gauge("double")).unwrap();
    let before = Arc::new(registry.clone());
    let mut state = TwinState::new("g1");
    let body = json!({"$metadata": {"$model": GAUGE}, "level": 1.5, "label": "a"});
    execute(
        &mut state,
        TwinCommand::Replace(ReplaceTwin {
            body,
            if_none_match_any: false,
            models: before.clone(),
            at_ms: AT_MS,
        }),
    )
    .unwrap();
    run(&mut state, patch_label(&before)).unwrap();

    let delete = ModelCommand::Delete {
        model_id: GAUGE.to_owned(),
        at_ms: LATER_MS,
    };
    execute(&mut registry, delete).unwrap();
    execute(&mut registry, gauge("string")).unwrap();
    let refused = assert_refused(
        &state,
        patch_label(&Arc::new(registry)),
        "ValidationFailed",
        "level",
    );
    assert!(
        matches!(&refused, TwinError::ValidationFailed { path, .. } if path == "$.level"),
        "{refused:?}"
    );
}
