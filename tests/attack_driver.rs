//! The attack driver (`Attack::run`): step 0 is reported once, by the driver, for every attack; a clean image that
//! already reaches the goal comes back untouched after one query; the kind of each attack comes from the trait.

use advlab::attacks::{by_name, AttackKind, AttackParams, Goal, Norm, Progress, ATTACK_NAMES};
use advlab::nn::{architecture, Model};
use ndarray::Array4;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn model() -> Model {
    Model::init(&architecture("linear").unwrap(), [1, 28, 28], 5).unwrap()
}

fn image() -> Array4<f32> {
    Array4::from_shape_fn((1, 1, 28, 28), |(_, _, r, c)| ((r * 31 + c * 7) % 13) as f32 / 12.0)
}

fn cheap(norm: Norm) -> AttackParams {
    AttackParams {
        eta: if norm == Norm::L2 { 1.0 } else { 0.05 },
        norm,
        steps: 4,
        step_size: if norm == Norm::L2 { 0.3 } else { 0.02 },
        max_queries: 120,
        cw_steps: 5,
        binary_search_steps: 2,
        population: 10,
        gamma: 0.02,
        ..AttackParams::default()
    }
}

fn run(
    name: &str,
    m: &Model,
    x: &Array4<f32>,
    goal: Goal,
    p: &AttackParams,
) -> (advlab::attacks::AttackResult, Vec<Progress>) {
    let mut seen = vec![];
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let r = by_name(name)
        .unwrap()
        .run(m, x.view(), goal, p, &mut rng, &mut |pr| {
            seen.push(pr);
            true
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (r, seen)
}

#[test]
fn step_zero_is_reported_once_by_the_driver() {
    let m = model();
    let x = image();
    let pred = m.predict(x.view())[0];
    for &name in ATTACK_NAMES {
        for &norm in by_name(name).unwrap().supported_norms() {
            let (_, seen) = run(name, &m, &x, Goal::Untargeted { true_class: pred }, &cheap(norm));
            assert!(!seen.is_empty(), "{name}");
            let first = seen[0];
            assert_eq!((first.step, first.queries, first.success), (0, 1, false), "{name}");
            assert_eq!(
                seen.iter().filter(|p| p.step == 0).count(),
                1,
                "{name} {norm:?}: {seen:?}"
            );
            // Steps only go forward and stay within the plan.
            assert!(seen.windows(2).all(|w| w[0].step < w[1].step), "{name}: {seen:?}");
            assert!(seen.iter().all(|p| p.step <= p.total), "{name}: {seen:?}");
        }
    }
}

#[test]
fn an_image_already_at_the_goal_comes_back_untouched() {
    let m = model();
    let x = image();
    let pred = m.predict(x.view())[0];
    // An untargeted goal on a label the model gets wrong: nothing to do.
    let goal = Goal::Untargeted {
        true_class: (pred + 1) % 10,
    };
    for &name in ATTACK_NAMES {
        let norm = by_name(name).unwrap().supported_norms()[0];
        let (r, seen) = run(name, &m, &x, goal, &cheap(norm));
        assert_eq!(r.adversarial, x, "{name}");
        assert_eq!(
            (r.queries, r.steps, r.flipped, r.pred_after),
            (1, 0, true, pred),
            "{name}"
        );
        assert_eq!(seen.len(), 1, "{name}");
        assert!(seen[0].success, "{name}");
    }
}

#[test]
fn the_kind_comes_from_the_trait() {
    let kinds: Vec<AttackKind> = ATTACK_NAMES.iter().map(|n| by_name(n).unwrap().kind()).collect();
    assert_eq!(kinds.iter().filter(|&&k| k == AttackKind::Direction).count(), 1);
    assert_eq!(by_name("fgsm").unwrap().kind().as_str(), "direction");
    assert_eq!(by_name("cw").unwrap().kind().as_str(), "iterative");
    assert_eq!(by_name("square").unwrap().kind().as_str(), "query");
}
