//! The attack-parameter parser (the JSON the page sends): any string gives parameters or an error, never a panic;
//! what is accepted validates and round-trips.
#![no_main]
use advlab::attacks::AttackParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = AttackParams::from_json(s) {
        assert!(p.validate().is_ok());
        let back = AttackParams::from_json(&p.to_json()).expect("accepted parameters round-trip");
        assert_eq!(back.to_json(), p.to_json());
    }
});
