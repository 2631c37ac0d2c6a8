//! Protobuf request bodies (what client-go's typed clients send): any bytes
//! after the `k8s\0` magic decode or are refused, never a panic or a hang.
#![no_main]

use apiserver::protobuf::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(data);
    let _ = decode(&body);
});
