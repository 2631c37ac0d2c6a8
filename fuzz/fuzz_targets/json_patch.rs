//! JSON patch (`application/json-patch+json`): any patch against any object
//! either applies or is refused with a 400/422, never a panic.
#![no_main]

use apiserver::registry::patch::json_patch;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(Value::Array(pair)) = serde_json::from_slice::<Value>(data)
        && let [target, patch] = pair.as_slice()
        && let Err(e) = json_patch::apply(target, patch)
    {
        assert!(matches!(e.code, 400 | 422), "unexpected code {}", e.code);
    }
});
