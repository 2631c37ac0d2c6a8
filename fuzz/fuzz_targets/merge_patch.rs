//! JSON merge patch (`application/merge-patch+json`): applying a patch twice
//! gives what applying it once gave (RFC 7386 patches are idempotent).
#![no_main]

use apiserver::registry::patch::merge_patch;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if let Ok(Value::Array(pair)) = serde_json::from_slice::<Value>(data)
        && let [target, patch] = pair.as_slice()
    {
        let once = merge_patch::apply(target, patch);
        assert_eq!(merge_patch::apply(&once, patch), once);
    }
});
