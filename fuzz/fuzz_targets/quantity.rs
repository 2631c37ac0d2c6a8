//! resource.Quantity (requests, limits, quotas in any object body): parsing
//! never panics, and the canonical form parses back to the same quantity.
#![no_main]

use apimachinery::quantity::Quantity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(q) = Quantity::parse(s) {
        let printed = q.to_string();
        let again = Quantity::parse(&printed).expect("a canonical quantity parses");
        assert_eq!(again.to_string(), printed);
        let _ = (q.milli_value(), q.value(), q.is_negative(), q.is_zero());
    }
});
