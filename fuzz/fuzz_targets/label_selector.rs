//! Label selectors (`?labelSelector=`, every authenticated list and watch):
//! parsing never panics, and what parses prints back to a selector that
//! parses to the same text.
#![no_main]

use apimachinery::labels::Selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(sel) = Selector::parse(s) {
        let printed = sel.to_string();
        let again = Selector::parse(&printed).expect("a printed selector parses");
        assert_eq!(again.to_string(), printed);
    }
});
