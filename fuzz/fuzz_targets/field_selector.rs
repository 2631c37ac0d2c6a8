//! Field selectors (`?fieldSelector=`): parsing and value unescaping never
//! panic, and a parsed selector prints back to one that parses the same.
#![no_main]

use apimachinery::fields::{Selector, unescape_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let _ = unescape_value(s);
    if let Ok(sel) = Selector::parse(s) {
        let printed = sel.to_string();
        let again = Selector::parse(&printed).expect("a printed selector parses");
        assert_eq!(again.to_string(), printed);
    }
});
