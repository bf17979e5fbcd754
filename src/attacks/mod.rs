//! Adversarial attacks behind one trait.
//!
//! Every attack takes one image `x ∈ [0,1]^{1×C×H×W}`, a [`Goal`] and [`AttackParams`], and returns an
//! [`AttackResult`] with `x' = x + δ`. The contract, for every attack and tested in `tests/attack_invariants.rs`:
//!
//! * the input is never mutated, the output lies in `[0, 1]`;
//! * the bound holds: `‖δ‖∞ ≤ η` ([`Norm::Linf`]) or `‖δ‖₂ ≤ η` ([`Norm::L2`]), within 1e-6 / 1e-5 rounding
//!   (DeepFool only when [`AttackParams::bounded`] is set: it is a minimum-norm attack);
//! * `η = 0` returns `x` exactly, for every attack (bounded or not: the slider at 0 means "no attack");
//! * all randomness comes from the [`ChaCha8Rng`] passed in: same seed, bitwise same result;
//! * `flipped` is computed from the final prediction: `pred ≠ true_class` (untargeted) or `pred = target`
//!   (targeted);
//! * the progress callback returning `false` stops the attack with [`Error::Cancelled`].
//!
//! | name (`ATTACK_NAMES`) | attack | paper | norms |
//! |---|---|---|---|
//! | `fgsm` | fast gradient sign method (a *direction attack*) | Goodfellow et al. 2015 | L∞, L2 |
//! | `bim` | basic iterative method / I-FGSM | Kurakin et al. 2017 | L∞, L2 |
//! | `pgd` | projected gradient descent with random start | Madry et al. 2018 | L∞, L2 |
//! | `mifgsm` | momentum iterative FGSM | Dong et al. 2018 | L∞, L2 |
//! | `apgd-ce` | Auto-PGD on the cross-entropy: step-size halving checkpoints, momentum 0.75, 100 iterations | Croce & Hein 2020 | L∞, L2 |
//! | `apgd-t` | Auto-PGD on the targeted DLR loss against the top-9 other classes in turn | Croce & Hein 2020 | L∞, L2 |
//! | `deepfool` | DeepFool, multiclass, overshoot 0.02, the top-10 candidate classes | Moosavi-Dezfooli et al. 2016 | L2, L∞ |
//! | `cw` | Carlini–Wagner L2 (ε is a hard cap) | Carlini & Wagner 2017 | L2, L∞ cap |
//! | `jsma` | Jacobian saliency map attack (pixel pairs); refused above 4096 inputs | Papernot et al. 2016 | L0 (+ L∞ cap η) |
//! | `simba` | simple black-box attack, pixel basis (DCT basis from 32×32) | Guo et al. 2019 | L∞, L2 |
//! | `square` | Square Attack (random search) | Andriushchenko et al. 2020 | L∞ |
//! | `one_pixel` | differential evolution on k ≤ 5 pixels (a pixel: all C channels of one position) | Su et al. 2019 | L0 (+ L∞ cap η) |
//!
//! **Photos** (`[3, 224, 224]`, 1000 classes; `tests/attack_photo.rs`). Every attack works on `C > 1` inputs and
//! keeps the contract there. What changes with the size: DeepFool linearises only the original class's 9
//! strongest rivals (`params.top_k = 10`), so an iteration costs 10 passes, not 1000; C&W needs no such cut, its
//! rival `max_{i≠t} Z_i` is a max over the logits it has anyway and its gradient is one backward pass whatever
//! `K`; SimBA searches the low-frequency DCT basis ([`simba`]); JSMA, whose saliency map scores every pair of
//! inputs, refuses inputs above [`jsma::JSMA_MAX_INPUTS`] with an [`Error::InvalidParameter`] on `attack` (and
//! the [`catalog`] marks it `refused`). The η caps and defaults follow the size ([`catalog::EtaCaps`]).
//!
//! **AutoAttack** ([`autoattack`], Croce & Hein 2020) is not one attack but a sequence over these (APGD-CE, APGD-T,
//! Square) with checks that an evaluation is not broken; it has no entry in [`ATTACK_NAMES`].
//!
//! The model is seen through the small [`Classifier`] trait (logits and a vector-Jacobian product), implemented
//! for [`crate::nn::Model`]. Queries ([`AttackResult::queries`]) count images passed through the model (a forward,
//! or a forward with its backward), so white-box and black-box attacks compare on one scale.

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod apgd;
pub mod autoattack;
pub mod catalog;
pub mod cw;
pub mod deepfool;
pub mod dlr;
pub mod fgsm;
pub mod flip;
pub mod iterative;
pub mod jsma;
pub mod norms;
pub mod one_pixel;
pub mod params;
pub mod simba;
pub mod square;
pub mod transfer;

pub use apgd::{ApgdCe, ApgdT};
pub use catalog::{
    catalog, default_eta, default_steps_of, fixed_eta_of, flip_search_max, flip_step, is_photo_shape, AttackInfo,
    AttackKind, BudgetInfo, EtaCaps, PHOTO_FLIP_STEP,
};
pub use cw::CarliniWagner;
pub use deepfool::DeepFool;
pub use fgsm::{
    apply_direction, apply_direction_into, fgsm_direction, linear_view, random_direction, Fgsm, LinearView,
};
pub use flip::{flip_eta, FLIP_STEP};
pub use iterative::{Bim, MiFgsm, Pgd};
pub use jsma::Jsma;
pub use one_pixel::OnePixel;
pub use params::{defences_step, AttackParams, SimbaBasis, DEFENCES_STEPS, MAX_L2_ETA};
pub use simba::SimBA;
pub use square::Square;
pub use transfer::{evaluate, image_seed, transfer, EvalReport, TransferStats};

/// What the model must offer an attack: logits and their vector-Jacobian product with respect to the input.
///
/// `Send + Sync` so that evaluation can run images in parallel natively.
pub trait Classifier: Send + Sync {
    /// Number of output classes `K`.
    fn num_classes(&self) -> usize;
    /// `[C, H, W]` of one input image.
    fn input_shape(&self) -> [usize; 3];
    /// Logits `Z(x)`, `[N, K]`, for a batch `[N, C, H, W]`.
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32>;
    /// `(Z(x), ∂(Σ dlogits ⊙ Z(x))/∂x)`: one forward and one backward pass. Row `n` of `dlogits` only touches
    /// image `n`, so a batch of copies of one image with different rows gives several gradients at once.
    fn logits_vjp(&self, x: ArrayView4<f32>, dlogits: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>);

    /// Softmax probabilities, `[N, K]`.
    fn probabilities(&self, x: ArrayView4<f32>) -> Array2<f32> {
        let mut z = self.logits(x);
        for mut row in z.rows_mut() {
            softmax_in_place(row.as_slice_mut().expect("logits rows are contiguous"));
        }
        z
    }

    /// Arg-max class of each image (the first one on ties).
    fn predict(&self, x: ArrayView4<f32>) -> Vec<usize> {
        self.logits(x)
            .rows()
            .into_iter()
            .map(|r| argmax(r.as_slice().expect("contiguous")))
            .collect()
    }

    /// `(Z(x), ∇ₓ Σₙ Lₙ(Z(xₙ)))` for a loss given by its gradient in the logits: `dloss(n, zₙ, dₙ)` writes
    /// `∂Lₙ/∂zₙ` into `dₙ` (zeroed). Losses whose gradient depends on the logits themselves (the cross-entropy, the
    /// DLR loss of [`dlr`]) need the logits before the backward pass: the default runs a forward pass, then
    /// [`Classifier::logits_vjp`] (two forwards, one backward); [`crate::nn::Model`] keeps the forward pass's
    /// activations and needs one forward and one backward.
    fn logits_and_loss_gradient(&self, x: ArrayView4<f32>, dloss: &LossGradient) -> (Array2<f32>, Array4<f32>) {
        let z = self.logits(x);
        let d = dlogits_of(z.view(), dloss);
        let (_, g) = self.logits_vjp(x, d.view());
        (z, g)
    }

    /// Per-image gradient of the softmax cross-entropy `J(x, y) = −log softmax(Z(x))_y`: image `n` of the result
    /// is `∇ₓ J(xₙ, labels[n])` (a sum over the batch, not a mean).
    fn ce_gradient(&self, x: ArrayView4<f32>, labels: &[usize]) -> Array4<f32> {
        let mut d = self.logits(x);
        for (mut row, &y) in d.rows_mut().into_iter().zip(labels) {
            softmax_in_place(row.as_slice_mut().expect("contiguous"));
            row[y] -= 1.0;
        }
        self.logits_vjp(x, d.view()).1
    }
}

impl Classifier for crate::nn::Model {
    fn num_classes(&self) -> usize {
        crate::nn::Model::num_classes(self)
    }
    fn input_shape(&self) -> [usize; 3] {
        crate::nn::Model::input_shape(self)
    }
    fn logits(&self, x: ArrayView4<f32>) -> Array2<f32> {
        crate::nn::Model::logits(self, x)
    }
    fn logits_vjp(&self, x: ArrayView4<f32>, dlogits: ArrayView2<f32>) -> (Array2<f32>, Array4<f32>) {
        crate::nn::Model::logits_vjp(self, x, dlogits)
    }
    fn logits_and_loss_gradient(&self, x: ArrayView4<f32>, dloss: &LossGradient) -> (Array2<f32>, Array4<f32>) {
        let cache = self.forward_cached(x);
        let d = dlogits_of(cache.logits(), dloss);
        let g = self.backward_input(&cache, d.view());
        (cache.logits().to_owned(), g)
    }
    fn ce_gradient(&self, x: ArrayView4<f32>, labels: &[usize]) -> Array4<f32> {
        // The model's own loss gradient is one forward + one backward (the default needs two forwards); it is
        // the gradient of the *mean* loss, so scale back to per-image gradients.
        let n = x.shape()[0] as f32;
        let (_, mut g) = crate::nn::Model::input_gradient(self, x, labels);
        if n != 1.0 {
            g.mapv_inplace(|v| v * n);
        }
        g
    }
}

/// A loss's gradient in the logits, row by row: `dloss(n, zₙ, dₙ)` writes `∂Lₙ/∂zₙ` into the zeroed `dₙ`
/// ([`Classifier::logits_and_loss_gradient`]).
pub type LossGradient<'a> = dyn Fn(usize, &[f32], &mut [f32]) + 'a;

/// `∂L/∂Z` row by row: `dloss(n, zₙ, dₙ)` on a zeroed `[N, K]` array.
fn dlogits_of(z: ArrayView2<f32>, dloss: &LossGradient) -> Array2<f32> {
    let mut d = Array2::<f32>::zeros(z.raw_dim());
    for (n, (zr, mut dr)) in z.rows().into_iter().zip(d.rows_mut()).enumerate() {
        let zr = zr.to_vec();
        dloss(n, &zr, dr.as_slice_mut().expect("a fresh array is contiguous"));
    }
    d
}

/// Arg-max, softmax and sign live in [`crate::nn::ops`] (one NaN rule: NaN never wins an arg-max, a row with NaN
/// softmaxes to NaN, `sign(0) = sign(NaN) = 0`); re-exported here for the attacks and the lessons.
pub use crate::nn::ops::{argmax, argmax_except, softmax_in_place};

/// The norm that bounds a perturbation: `‖δ‖∞ ≤ η` or `‖δ‖₂ ≤ η`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// Largest change of any one pixel.
    #[default]
    Linf,
    /// Euclidean length of the perturbation.
    L2,
}

impl Norm {
    /// `"linf"` / `"l2"`, as in the JSON the page sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Norm::Linf => "linf",
            Norm::L2 => "l2",
        }
    }
    /// The norm of a flat perturbation.
    pub fn of(self, delta: &[f32]) -> f32 {
        match self {
            Norm::Linf => norms::linf(delta),
            Norm::L2 => norms::l2(delta),
        }
    }
}

/// What the attacker wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Goal {
    /// Any class but `true_class` (the label, or the clean prediction when there is no label).
    Untargeted { true_class: usize },
    /// Exactly `target`.
    Targeted { target: usize },
}

impl Goal {
    /// `Targeted` when `target` is given, else `Untargeted` on `true_class`.
    pub fn new(true_class: usize, target: Option<usize>) -> Goal {
        match target {
            Some(target) => Goal::Targeted { target },
            None => Goal::Untargeted { true_class },
        }
    }
    pub fn is_targeted(self) -> bool {
        matches!(self, Goal::Targeted { .. })
    }
    /// The class the loss is about: the true class (pushed away from) or the target (pulled towards).
    pub fn class(self) -> usize {
        match self {
            Goal::Untargeted { true_class } => true_class,
            Goal::Targeted { target } => target,
        }
    }
    /// Has the attack succeeded when the model predicts `pred`?
    pub fn is_success(self, pred: usize) -> bool {
        match self {
            Goal::Untargeted { true_class } => pred != true_class,
            Goal::Targeted { target } => pred == target,
        }
    }
    /// Success judged from one row of logits (arg-max, as [`Classifier::predict`]).
    pub fn is_success_logits(self, z: &[f32]) -> bool {
        self.is_success(argmax(z))
    }
    /// Margin `m` of a row of logits; `m < 0` means success:
    /// untargeted `m = Z_y − max_{j≠y} Z_j`, targeted `m = max_{j≠t} Z_j − Z_t`.
    pub fn margin(self, z: &[f32]) -> f32 {
        let c = self.class();
        let other = z[argmax_except(z, c)];
        match self {
            Goal::Untargeted { .. } => z[c] - other,
            Goal::Targeted { .. } => other - z[c],
        }
    }
    /// Checks the goal against the model and the clean prediction.
    pub fn check(self, num_classes: usize, clean_pred: usize) -> Result<()> {
        match self {
            Goal::Untargeted { true_class } if true_class >= num_classes => Err(Error::param(
                "true_class",
                format!("class {true_class} does not exist: the model has {num_classes} classes"),
            )),
            Goal::Targeted { target } if target >= num_classes => Err(Error::param(
                "target",
                format!("class {target} does not exist: the model has {num_classes} classes"),
            )),
            Goal::Targeted { target } if target == clean_pred => Err(Error::param(
                "target",
                format!("the model already predicts class {target}: pick another target"),
            )),
            _ => Ok(()),
        }
    }
}

/// A progress report; the callback returns `false` to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// Iterations done so far.
    pub step: usize,
    /// Iterations planned (an upper bound for attacks that stop early).
    pub total: usize,
    /// Model queries so far.
    pub queries: usize,
    /// Whether the current iterate already reaches the goal.
    pub success: bool,
}

/// What an attack returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttackResult {
    /// `x'`, `[1, C, H, W]`, in `[0, 1]` (serialised as a flat row-major list).
    #[serde(serialize_with = "serialize_flat")]
    pub adversarial: Array4<f32>,
    /// `δ = x' − x` (serialised as a flat row-major list).
    #[serde(serialize_with = "serialize_flat")]
    pub perturbation: Array4<f32>,
    pub probs_before: Vec<f32>,
    pub probs_after: Vec<f32>,
    pub pred_before: usize,
    pub pred_after: usize,
    /// Untargeted: `pred_after ≠ true_class`; targeted: `pred_after = target`.
    pub flipped: bool,
    pub linf: f32,
    pub l2: f32,
    /// Number of changed pixel values (`δᵢ ≠ 0`).
    pub l0: usize,
    /// Images passed through the model (a forward, or a forward with its backward).
    pub queries: usize,
    /// Iterations performed.
    pub steps: usize,
}

fn serialize_flat<S: serde::Serializer>(a: &Array4<f32>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(a.iter())
}

/// Everything an attack implementation gets, validated: the image (standard layout), the clean logits, …
pub struct Context<'a> {
    pub model: &'a dyn Classifier,
    /// The clean image `[1, C, H, W]`, standard layout.
    pub x: Array4<f32>,
    pub goal: Goal,
    pub params: &'a AttackParams,
    pub clean_logits: Vec<f32>,
    pub clean_pred: usize,
}

impl Context<'_> {
    /// The clean image as a flat slice.
    pub fn x_flat(&self) -> &[f32] {
        self.x.as_slice().expect("standard layout")
    }
    /// `[C, H, W]`.
    pub fn shape(&self) -> [usize; 3] {
        self.model.input_shape()
    }
}

/// What an attack implementation hands back to [`Attack::run`], which measures it.
pub struct Crafted {
    pub adversarial: Array4<f32>,
    pub queries: usize,
    pub steps: usize,
}

/// One attack family.
pub trait Attack: Send + Sync {
    /// The registry name (see [`ATTACK_NAMES`]).
    fn name(&self) -> &'static str;
    /// How the page drives it: a direction (one forward pass per slider move), iterative, or query-based.
    fn kind(&self) -> AttackKind;
    /// Whether it takes a target class ([`Goal::Targeted`]).
    fn supports_target(&self) -> bool {
        true
    }
    /// `Some(reason)` when the attack cannot run on inputs of shape `[C, H, W]` (too costly); [`Attack::run`]
    /// then fails with an [`Error::InvalidParameter`] on `attack`, and the catalog lists the reason.
    fn refuses(&self, _input_shape: [usize; 3]) -> Option<String> {
        None
    }
    /// Norms this attack supports (others give [`Error::InvalidParameter`]).
    fn supported_norms(&self) -> &'static [Norm] {
        &[Norm::Linf, Norm::L2]
    }
    /// Whether the result is kept inside the η-ball of `params.norm` (see the module docs).
    fn is_bounded(&self, _params: &AttackParams) -> bool {
        true
    }
    /// Iterations planned ([`Progress::total`]): `params.steps` unless the attack counts otherwise.
    fn total_steps(&self, ctx: &Context) -> usize {
        ctx.params.steps
    }
    /// The attack proper, on validated input: `η > 0`, the clean image does not reach the goal yet, and step 0 has
    /// been reported (so `craft` reports steps ≥ 1 only).
    fn craft(&self, ctx: &Context, rng: &mut ChaCha8Rng, progress: &mut dyn FnMut(Progress) -> bool)
        -> Result<Crafted>;

    /// The driver: validates, reports step 0, runs [`Attack::craft`] and measures the result.
    ///
    /// * `η = 0` returns `x` untouched (one query, no progress report);
    /// * otherwise step 0 is reported (`queries: 1`, `success` of the clean image); a `false` from the callback
    ///   cancels before any work;
    /// * a clean image that already reaches the goal (an untargeted goal on a label the model gets wrong) is
    ///   returned as it is: one query, zero steps, `flipped`.
    fn run(
        &self,
        model: &dyn Classifier,
        x: ArrayView4<f32>,
        goal: Goal,
        params: &AttackParams,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<AttackResult> {
        if let Some(reason) = self.refuses(model.input_shape()) {
            return Err(Error::param("attack", reason));
        }
        let ctx = prepare(model, x, goal, params)?;
        if !self.supported_norms().contains(&params.norm) {
            return Err(Error::param(
                "norm",
                format!("{} does not support the {} norm", self.name(), params.norm.as_str()),
            ));
        }
        let untouched = |ctx: &Context| Crafted {
            adversarial: ctx.x.clone(),
            queries: 1,
            steps: 0,
        };
        if params.eta == 0.0 {
            let crafted = untouched(&ctx);
            return Ok(finish(&ctx, crafted));
        }
        let success = ctx.goal.is_success_logits(&ctx.clean_logits);
        report(
            progress,
            Progress {
                step: 0,
                total: self.total_steps(&ctx),
                queries: 1,
                success,
            },
        )?;
        let crafted = if success {
            untouched(&ctx)
        } else {
            self.craft(&ctx, rng, progress)?
        };
        Ok(finish(&ctx, crafted))
    }
}

/// The registry names, in the order the page lists them.
///
/// APGD-CE and APGD-T come with the `audit` feature (on natively and in the full wasm engine that the audit view
/// and photo mode load); the lean wasm of the default page leaves them out to stay in its 400 KB budget.
pub const ATTACK_NAMES: &[&str] = &[
    "fgsm",
    "bim",
    "pgd",
    "mifgsm",
    #[cfg(feature = "audit")]
    "apgd-ce",
    #[cfg(feature = "audit")]
    "apgd-t",
    "deepfool",
    "cw",
    "jsma",
    "simba",
    "square",
    "one_pixel",
];

/// The attack called `name` (one of [`ATTACK_NAMES`]).
pub fn by_name(name: &str) -> Result<Box<dyn Attack>> {
    Ok(match name {
        "fgsm" => Box::new(Fgsm),
        "bim" => Box::new(Bim),
        "pgd" => Box::new(Pgd),
        "mifgsm" => Box::new(MiFgsm),
        #[cfg(feature = "audit")]
        "apgd-ce" => Box::new(ApgdCe),
        #[cfg(feature = "audit")]
        "apgd-t" => Box::new(ApgdT),
        "deepfool" => Box::new(DeepFool),
        "cw" => Box::new(CarliniWagner),
        "jsma" => Box::new(Jsma),
        "simba" => Box::new(SimBA),
        "square" => Box::new(Square),
        "one_pixel" => Box::new(OnePixel),
        _ => {
            return Err(Error::param(
                "attack",
                format!("unknown attack `{name}`; known: {}", ATTACK_NAMES.join(", ")),
            ))
        }
    })
}

/// Direction attacks (FGSM, the linear view): the page computes `s` once with [`fgsm_direction`], and a slider
/// move is one forward pass on [`apply_direction`]`(x, s, η)`.
pub fn uses_direction(name: &str) -> bool {
    by_name(name).is_ok_and(|a| a.kind() == AttackKind::Direction)
}

/// Convenience: runs attack `name` with an RNG seeded from `params.seed`.
pub fn run(
    name: &str,
    model: &dyn Classifier,
    x: ArrayView4<f32>,
    goal: Goal,
    params: &AttackParams,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<AttackResult> {
    let attack = by_name(name)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    attack.run(model, x, goal, params, &mut rng, progress)
}

/// Checks that `x` is one finite image in `[0, 1]` of the model's input shape.
pub fn check_image(model: &dyn Classifier, x: ArrayView4<f32>) -> Result<()> {
    let [c, h, w] = model.input_shape();
    if x.shape() != [1, c, h, w] {
        return Err(Error::Shape(format!(
            "expected one image [1, {c}, {h}, {w}], got {:?}",
            x.shape()
        )));
    }
    if let Some(v) = x.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(Error::param(
            "image",
            format!("pixels must be finite and lie in [0, 1], found {v}"),
        ));
    }
    Ok(())
}

/// Validation shared by every attack: parameters, image shape and range, goal; plus one clean forward pass.
pub fn prepare<'a>(
    model: &'a dyn Classifier,
    x: ArrayView4<f32>,
    goal: Goal,
    params: &'a AttackParams,
) -> Result<Context<'a>> {
    params.validate_for(model.input_shape())?;
    check_image(model, x)?;
    let x = x.as_standard_layout().into_owned();
    let clean_logits = model.logits(x.view()).row(0).to_vec();
    let clean_pred = argmax(&clean_logits);
    goal.check(model.num_classes(), clean_pred)?;
    Ok(Context {
        model,
        x,
        goal,
        params,
        clean_logits,
        clean_pred,
    })
}

/// Clips to `[0, 1]` and measures: norms, probabilities before and after, `flipped`.
fn finish(ctx: &Context, crafted: Crafted) -> AttackResult {
    let mut adversarial = crafted.adversarial;
    adversarial.mapv_inplace(|v| v.clamp(0.0, 1.0));
    let perturbation = &adversarial - &ctx.x;
    let d = perturbation.as_slice().expect("standard layout");
    let mut probs_before = ctx.clean_logits.clone();
    softmax_in_place(&mut probs_before);
    let logits_after = ctx.model.logits(adversarial.view());
    let logits_after = logits_after.index_axis(Axis(0), 0);
    let pred_after = argmax(logits_after.as_slice().expect("contiguous"));
    let mut probs_after = logits_after.to_vec();
    softmax_in_place(&mut probs_after);
    AttackResult {
        linf: norms::linf(d),
        l2: norms::l2(d),
        l0: norms::l0(d),
        perturbation,
        adversarial,
        probs_before,
        probs_after,
        pred_before: ctx.clean_pred,
        pred_after,
        flipped: ctx.goal.is_success(pred_after),
        queries: crafted.queries,
        steps: crafted.steps,
    }
}

/// Calls the progress callback; `false` becomes [`Error::Cancelled`].
pub(crate) fn report(progress: &mut dyn FnMut(Progress) -> bool, p: Progress) -> Result<()> {
    if progress(p) {
        Ok(())
    } else {
        Err(Error::Cancelled)
    }
}

/// `n` copies of one image `[1, C, H, W]` as a batch `[n, C, H, W]`.
pub(crate) fn repeat(x: &Array4<f32>, n: usize) -> Array4<f32> {
    let s = x.shape();
    let mut out = Array4::zeros((n, s[1], s[2], s[3]));
    for mut img in out.outer_iter_mut() {
        img.assign(&x.index_axis(Axis(0), 0));
    }
    out
}

/// A flat slice of an array in standard layout, copying only when needed.
pub(crate) fn std_layout(a: Array4<f32>) -> Array4<f32> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}
