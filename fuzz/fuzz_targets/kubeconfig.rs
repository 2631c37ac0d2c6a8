//! Kubeconfig files handed to every daemon and to `certs`: parsing YAML of
//! any shape never panics.
#![no_main]

use apimachinery::kubeconfig::Kubeconfig;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|s: &str| {
    let _ = Kubeconfig::parse(s, Path::new("/nonexistent/kubeconfig"));
});
