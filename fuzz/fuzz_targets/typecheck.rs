//! The body type check against a kind's schema (every create, update and
//! patch): any JSON against any served kind's definition never panics.
#![no_main]

use apiserver::schema::typecheck::{Decoder, check};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let Ok(obj) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let kinds = apiserver::schema::kinds();
    if kinds.is_empty() {
        return;
    }
    let kind = &kinds[usize::from(pick) % kinds.len()];
    let decoder = if pick & 0x80 == 0 {
        Decoder::Json
    } else {
        Decoder::Unstructured
    };
    let _ = check(&kind.definition, &obj, decoder);
});
