//! The cert tool's JSON inputs: certificate signing requests (`csr.json`)
//! and signing configs (`ca-config.json`), with what is derived from them.
#![no_main]

use certs::config::SigningConfig;
use certs::request::CertificateRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = CertificateRequest::from_json(data) {
        let _ = req.key_spec();
        let _ = req.subject_alt_names();
        let _ = req.ca_constraints();
    }
    if let Ok(cfg) = SigningConfig::from_json(data) {
        let _ = cfg.policy(None);
        let _ = cfg.policy(Some("kubernetes"));
    }
});
