//! Engine rules the page used to keep in JavaScript (issue 16): one-pixel's fixed η, the defences protocol's PGD
//! step, the flip search's range per norm.

use advlab::attacks::{
    catalog, defences_step, fixed_eta_of, flip_search_max, AttackParams, EtaCaps, Norm, DEFENCES_STEPS,
};
use serde_json::json;

const MNIST: [usize; 3] = [1, 28, 28];

#[test]
fn one_pixel_runs_at_eta_1_unless_told_and_only_it_has_a_fixed_eta() {
    let p = AttackParams::resolve("one_pixel", MNIST, &json!({"pixels": 3, "seed": 7})).unwrap();
    assert_eq!((p.eta, p.pixels, p.seed), (1.0, 3, 7));
    // An explicit η still caps each pixel's change (the CLI's --eta).
    let p = AttackParams::resolve("one_pixel", MNIST, &json!({"eta": 0.2})).unwrap();
    assert_eq!(p.eta, 0.2);
    for a in catalog(MNIST) {
        assert_eq!(a.fixed_eta, fixed_eta_of(a.name), "{}", a.name);
        assert_eq!(a.fixed_eta.is_some(), a.name == "one_pixel", "{}", a.name);
    }
    let v = serde_json::to_value(catalog(MNIST)).unwrap();
    let op = v.as_array().unwrap().iter().find(|a| a["name"] == "one_pixel").unwrap();
    assert_eq!(op["fixed_eta"], json!(1.0));
    // Every other attack still takes the shape's default η.
    let p = AttackParams::resolve("simba", MNIST, &json!({})).unwrap();
    assert_eq!(p.eta, 0.1);
}

#[test]
fn the_defences_protocol_is_pgd_40_with_the_scripts_step() {
    // scripts/eval-defences.sh used max(0.0025, η/15) to 4 decimals.
    for (eta, step) in [
        (0.3f32, 0.02f32),
        (0.1, 0.0067),
        (0.01, 0.0025),
        (0.0, 0.0025),
        (0.4, 0.0267),
    ] {
        assert_eq!(defences_step(eta), step, "η = {eta}");
        let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": eta, "protocol": "defences"})).unwrap();
        assert_eq!((p.steps, p.step_size), (DEFENCES_STEPS, step), "η = {eta}");
    }
    // Explicit fields win over the protocol.
    let p = AttackParams::resolve(
        "pgd",
        MNIST,
        &json!({"eta": 0.3, "protocol": "defences", "step_size": 0.05, "steps": 10}),
    )
    .unwrap();
    assert_eq!((p.steps, p.step_size), (10, 0.05));
    // Without it, the usual default.
    let p = AttackParams::resolve("pgd", MNIST, &json!({"eta": 0.3})).unwrap();
    assert_eq!(p.step_size, 0.01);
    // An unknown protocol is a named parameter error, not a silent default.
    let e = AttackParams::resolve("pgd", MNIST, &json!({"eta": 0.3, "protocol": "madry"})).unwrap_err();
    assert!(
        matches!(e, advlab::Error::InvalidParameter { ref name, .. } if name == "protocol"),
        "{e:?}"
    );
}

#[test]
fn the_flip_search_covers_the_slider_in_each_norm_within_the_caps() {
    assert_eq!(flip_search_max(Norm::Linf, MNIST), 0.5);
    assert_eq!(flip_search_max(Norm::L2, MNIST), 5.0);
    // A 2×2 input's L2 diagonal is 2: the search never passes the cap.
    assert_eq!(flip_search_max(Norm::L2, [1, 2, 2]), 2.0);
    for shape in [MNIST, [3, 224, 224], [1, 2, 2]] {
        for norm in [Norm::Linf, Norm::L2] {
            assert!(flip_search_max(norm, shape) <= EtaCaps::for_shape(shape).cap(norm));
        }
    }
}
