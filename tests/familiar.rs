//! The overconfidence caveat (src/data/familiar.rs): no MNIST test digit gets it; the CC0 sample photos put
//! through the MNIST recipe do.

use advlab::data::familiar::{ink_profile, unfamiliar, MNIST_GREY_MAX, MNIST_INK_MAX, MNIST_INK_MIN, MNIST_SOFT_MAX};
use advlab::data::image_io::read_image;
use advlab::data::{load, preprocess_rgba, DatasetName, Options, Split};

#[test]
fn no_mnist_test_digit_is_unfamiliar_and_the_limits_sit_just_above_the_training_maxima() {
    let test = load(DatasetName::Mnist, Split::Test, None).unwrap();
    let flagged: Vec<usize> = (0..test.len())
        .filter(|&i| {
            unfamiliar(
                "mnist",
                test.images.slice(ndarray::s![i, 0, .., ..]).as_slice().unwrap(),
            )
            .is_some()
        })
        .collect();
    assert!(flagged.is_empty(), "test digits flagged: {flagged:?}");
    // The documented training maxima: the limits are above them, by less than 0.03.
    let train = load(DatasetName::Mnist, Split::Train, None).unwrap();
    let (mut grey, mut ink) = (0f32, 0f32);
    for i in 0..train.len() {
        let p = ink_profile(train.images.slice(ndarray::s![i, 0, .., ..]).as_slice().unwrap());
        grey = grey.max(p.grey);
        ink = ink.max(p.ink);
    }
    assert!(
        grey < MNIST_GREY_MAX && MNIST_GREY_MAX - grey < 0.03,
        "training grey max {grey}"
    );
    assert!(
        ink < MNIST_INK_MAX && MNIST_INK_MAX - ink < 0.03,
        "training ink max {ink}"
    );
}

#[test]
fn cc0_photos_through_the_mnist_recipe_are_unfamiliar_and_the_limits_hold_on_the_training_set() {
    // The training ranges the limits come from (module docs): ink 0.019–0.398, grey ≤ 0.111, grey/ink ≤ 1.60.
    let train = load(DatasetName::Mnist, Split::Train, None).unwrap();
    let (mut ink_min, mut soft_max) = (1f32, 0f32);
    for i in 0..train.len() {
        let p = ink_profile(train.images.slice(ndarray::s![i, 0, .., ..]).as_slice().unwrap());
        ink_min = ink_min.min(p.ink);
        soft_max = soft_max.max(p.grey / p.ink);
    }
    assert!(
        ink_min > MNIST_INK_MIN && ink_min - MNIST_INK_MIN < 0.01,
        "training ink min {ink_min}"
    );
    assert!(
        soft_max < MNIST_SOFT_MAX && MNIST_SOFT_MAX - soft_max < 0.5,
        "training grey/ink max {soft_max}"
    );
    for (f, reason) in [("chelsea.jpg", "soft"), ("coffee.jpg", "soft"), ("rocket.jpg", "faint")] {
        let bytes = std::fs::read(format!("www/samples/photos/{f}")).unwrap();
        let (w, h, rgba) = read_image(&bytes).unwrap();
        let pre = preprocess_rgba(&rgba, w, h, &Options::default()).unwrap();
        let u = unfamiliar("mnist", &pre.pixels);
        assert_eq!(u.map(|u| u.reason), Some(reason), "{f}: {:?}", ink_profile(&pre.pixels));
        // No rule on Fashion-MNIST, whose clothes are grey photographs themselves.
        assert_eq!(unfamiliar("fashion", &pre.pixels), None);
    }
}
