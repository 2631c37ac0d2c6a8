//! Request bodies as the apiserver decodes them before anything else looks
//! at them: JSON, YAML (anchors and aliases included) and protobuf, chosen
//! by the first byte.
#![no_main]

use apiserver::handlers::encode::decode_body;
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 3] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let ct = TYPES[usize::from(pick) % TYPES.len()];
    let _ = decode_body(Some(ct), body);
});
