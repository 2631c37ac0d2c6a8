//! Strategic merge patch (`kubectl apply`, `kubectl patch`): any patch map
//! against any object of any served kind's schema never panics.
#![no_main]

use apiserver::registry::patch::strategic;
use apiserver::registry::patch::types::FromSchema;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let Ok(Value::Array(pair)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let [original, Value::Object(patch)] = pair.as_slice() else {
        return;
    };
    let kinds = apiserver::schema::kinds();
    let def = kinds
        .get(usize::from(pick) % kinds.len().max(1))
        .map(|k| k.definition.as_str());
    let _ = strategic::apply(&FromSchema, def, original, patch);
});
