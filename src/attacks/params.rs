//! Attack parameters: one struct for every attack (each reads the fields it needs), defaults that follow the
//! evaluation protocol of DESIGN.md, validation, and parsing from the JSON the page sends.
//!
//! ```json
//! {"eta": 0.1, "norm": "linf", "steps": 40, "step_size": 0.01, "random_start": true, "seed": 7}
//! ```
//! Missing fields take their defaults; unknown fields are an error (a typo must not silently fall back to a
//! default).
//!
//! **One entry point.** The page (through `src/web`) and the CLI (`advlab attack`, `advlab eval`,
//! `advlab transfer`) both build their parameters with [`AttackParams::resolve`]`(attack, input_shape, overrides)`,
//! which applies the norm-aware defaults and the shape's η caps, so the same link and the same command line give
//! the same numbers:
//!
//! * `norm` absent: the attack's default norm (the first of [`super::Attack::supported_norms`]);
//! * `eta` absent: the attack's fixed η if it has one ([`super::catalog::fixed_eta_of`]: one-pixel's 1), else
//!   [`super::default_eta`]`(norm, shape)`; present: `0 ≤ η ≤` [`EtaCaps::for_shape`]`(shape)`;
//! * `steps` absent: the attack's own count if it has one ([`super::catalog::default_steps_of`]: APGD's 100),
//!   else 40;
//! * `step_size` absent under L2: `α = 2.5·η / steps` (Madry et al. 2018: a step of 2.5·ε/T lets the iterate
//!   cross the ball and back; a fixed L∞-sized 0.01 could not cross a ball of radius 2 in 40 steps); the same
//!   rule under L∞ on a photo ([`super::is_photo_shape`]), whose radii (a few /255) are smaller than the digit
//!   step 0.01 itself (at η = 2/255 and PGD-40, α ≈ 0.00049);
//! * the attack's budget knob (see [`super::BudgetInfo`]) within its bounds; an attack that refuses the input
//!   size is an error;
//! * `"protocol"` (a named rule set, applied and then cleared; never in the JSON written back): `"defences"` is the
//!   robustness protocol of `scripts/eval-defences.sh` and the defences lesson: PGD-40 under L∞ with the step
//!   `α = max(0.0025, η/15)` rounded to 4 decimals ([`defences_step`]), unless `steps`/`step_size` are given.
//!   Any other name is an [`Error::InvalidParameter`].

use serde::{Deserialize, Serialize};

use super::catalog::{budget_of, default_eta, default_steps_of, fixed_eta_of, EtaCaps};
use super::{by_name, Norm};
use crate::error::{check_range, Error, Result};

/// Parameters of every attack. Which attack reads which field is said on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackParams {
    /// η (ε): the bound on `‖δ‖` in [`AttackParams::norm`], in pixel units (η = 0.1 ≈ 25/255). `0` means no attack.
    /// L∞: `[0, 1]`; L2: `[0, √(C·H·W)]` ([`EtaCaps::for_shape`]; 28 for MNIST).
    pub eta: f32,
    /// The threat model's norm. Default L∞.
    pub norm: Norm,
    /// Iterations: BIM, PGD, MI-FGSM (default 40, the protocol's PGD-40); DeepFool's maximum iterations; APGD's
    /// `N_iter` (per target for APGD-T; [`AttackParams::resolve`] gives APGD 100).
    pub steps: usize,
    /// Step α of BIM, PGD, MI-FGSM (default 0.01); SimBA's step for the L2 variant.
    pub step_size: f32,
    /// PGD: start from a uniform point of the η-ball (default true).
    pub random_start: bool,
    /// Query budget of the black-box attacks (SimBA, Square, one-pixel); default 10 000.
    pub max_queries: usize,
    /// One-pixel attack: number of pixels k (default 1).
    pub pixels: usize,
    /// C&W confidence κ: success needs a logit margin of κ (default 0).
    pub confidence: f32,
    /// Seed of the attack's [`rand_chacha::ChaCha8Rng`].
    pub seed: u64,
    /// MI-FGSM decay μ (default 1.0, as in Dong et al.).
    pub momentum: f32,
    /// DeepFool overshoot (default 0.02, as in Moosavi-Dezfooli et al.).
    pub overshoot: f32,
    /// DeepFool: project onto the η-ball (default false: DeepFool is a minimum-norm attack and ignores η > 0).
    pub bounded: bool,
    /// C&W: binary-search steps over the constant c (default 6).
    pub binary_search_steps: usize,
    /// C&W: Adam iterations per binary-search step (default 100).
    pub cw_steps: usize,
    /// C&W: Adam learning rate (default 0.1).
    pub learning_rate: f32,
    /// C&W: first c of the binary search (default 1.0).
    pub initial_const: f32,
    /// JSMA: largest share of pixels changed, γ (default 0.145, as in Papernot et al.).
    pub gamma: f32,
    /// JSMA: change per selected pixel, θ ∈ [−1, 1] \ {0} (default +1).
    pub theta: f32,
    /// Square Attack: initial fraction of pixels in a square, p_init (default 0.8, the authors' MNIST setting).
    pub p_init: f32,
    /// One-pixel attack: differential-evolution population (default 100; the paper uses 400).
    pub population: usize,
    /// One-pixel attack: DE mutation factor F (default 0.5).
    pub mutation: f32,
    /// DeepFool: the classes whose boundaries are linearised, the original class and its `top_k − 1` strongest
    /// rivals by clean logit (default 10, as in Moosavi-Dezfooli et al.'s code), so 1000 classes cost 9
    /// vector-Jacobian products per iteration, not 999. With `K ≤ top_k` every class is considered.
    /// APGD-T: the same classes, its `top_k − 1` targets (default 9, AutoAttack's standard version).
    pub top_k: usize,
    /// SimBA: the search basis (default `auto`: pixels up to [`super::simba::DCT_MIN_INPUTS`] inputs, the
    /// low-frequency DCT basis of Guo et al. 2019 above).
    pub basis: SimbaBasis,
    /// A named rule set applied by [`AttackParams::resolve`] (see the module docs: only `"defences"`), then cleared;
    /// never written by [`AttackParams::to_json`].
    #[serde(skip_serializing)]
    pub protocol: Option<String>,
}

/// The directions SimBA tries (see [`super::simba`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SimbaBasis {
    /// Pixels for small inputs, DCT for large ones.
    #[default]
    Auto,
    /// The standard basis: one pixel value per direction.
    Pixel,
    /// Orthonormal 2-D DCT directions per channel, lowest frequencies first.
    Dct,
}

impl Default for AttackParams {
    fn default() -> Self {
        AttackParams {
            eta: 0.1,
            norm: Norm::Linf,
            steps: 40,
            step_size: 0.01,
            random_start: true,
            max_queries: 10_000,
            pixels: 1,
            confidence: 0.0,
            seed: 0,
            momentum: 1.0,
            overshoot: 0.02,
            bounded: false,
            binary_search_steps: 6,
            cw_steps: 100,
            learning_rate: 0.1,
            initial_const: 1.0,
            gamma: 0.145,
            theta: 1.0,
            p_init: 0.8,
            population: 100,
            mutation: 0.5,
            top_k: 10,
            basis: SimbaBasis::Auto,
            protocol: None,
        }
    }
}

/// The MNIST input shape, `[1, 28, 28]`: what [`AttackParams::validate`] (which has no model) checks against.
pub const MNIST_SHAPE: [usize; 3] = [1, 28, 28];

/// The L2 cap of a 28×28 image, `EtaCaps::for_shape(MNIST_SHAPE).l2`. Only for callers that have no model at hand
/// (`src/web/session.rs` until it asks [`EtaCaps::for_shape`]); everything else uses the shape's caps.
pub const MAX_L2_ETA: f32 = 28.0;

/// Steps of the defences protocol's PGD (Madry et al. 2018 evaluate with PGD-40 on MNIST).
pub const DEFENCES_STEPS: usize = 40;

/// The defences protocol's L∞ PGD step for radius `η`: `α = max(0.0025, η/15)`, rounded to 4 decimals (the
/// numbers `scripts/eval-defences.sh` measured `www/models/robustness.json` with). η/15 lets 40 steps cross the
/// ball `40/15 ≈ 2.7` times; the floor keeps tiny radii from taking steps too small to leave the start.
pub fn defences_step(eta: f32) -> f32 {
    let a = (f64::from(eta) / 15.0).max(0.0025);
    // floor(x + ½) is rounding for x ≥ 0, and a wasm instruction (no libm `round` in the module).
    ((a * 1e4 + 0.5).floor() / 1e4) as f32
}

fn check_count(name: &str, v: usize, lo: usize, hi: usize) -> Result<()> {
    if v < lo || v > hi {
        return Err(Error::param(
            name,
            format!("must be an integer in [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}

impl AttackParams {
    /// Defaults with `eta` and `norm` set.
    pub fn new(eta: f32, norm: Norm) -> Self {
        AttackParams {
            eta,
            norm,
            ..Default::default()
        }
    }

    /// [`AttackParams::validate_for`] on [`MNIST_SHAPE`]: for callers without a model. An attack run checks
    /// against its model's own shape.
    pub fn validate(&self) -> Result<()> {
        self.validate_for(MNIST_SHAPE)
    }

    /// Checks every field against its domain, η against the caps of inputs of shape `[C, H, W]`; a clear
    /// [`Error::InvalidParameter`] names the first bad one.
    pub fn validate_for(&self, input_shape: [usize; 3]) -> Result<()> {
        let eta_max = EtaCaps::for_shape(input_shape).cap(self.norm);
        check_range("eta", self.eta, 0.0, eta_max)?;
        check_count("steps", self.steps, 1, 100_000)?;
        check_range("step_size", self.step_size, 0.0, 100.0)?;
        if self.step_size == 0.0 {
            return Err(Error::param("step_size", "must be positive"));
        }
        if self.max_queries == 0 {
            return Err(Error::param("max_queries", "the query budget must be at least 1"));
        }
        check_count("max_queries", self.max_queries, 1, 10_000_000)?;
        check_count("pixels", self.pixels, 1, 1 << 20)?;
        check_range("confidence", self.confidence, 0.0, 1000.0)?;
        check_range("momentum", self.momentum, 0.0, 10.0)?;
        check_range("overshoot", self.overshoot, 0.0, 10.0)?;
        check_count("binary_search_steps", self.binary_search_steps, 1, 40)?;
        check_count("cw_steps", self.cw_steps, 1, 100_000)?;
        check_range("learning_rate", self.learning_rate, 0.0, 10.0)?;
        if self.learning_rate == 0.0 {
            return Err(Error::param("learning_rate", "must be positive"));
        }
        check_range("initial_const", self.initial_const, 1e-6, 1e6)?;
        check_range("gamma", self.gamma, 0.0, 1.0)?;
        if self.gamma == 0.0 {
            return Err(Error::param("gamma", "must be positive"));
        }
        check_range("theta", self.theta, -1.0, 1.0)?;
        if self.theta == 0.0 {
            return Err(Error::param("theta", "must not be zero"));
        }
        check_range("p_init", self.p_init, 0.0, 1.0)?;
        if self.p_init == 0.0 {
            return Err(Error::param("p_init", "must be positive"));
        }
        check_count("population", self.population, 4, 100_000)?;
        check_range("mutation", self.mutation, 0.0, 2.0)?;
        if self.mutation == 0.0 {
            return Err(Error::param("mutation", "must be positive"));
        }
        check_count("top_k", self.top_k, 2, 100_000)?;
        Ok(())
    }

    /// Parses and validates the JSON object the page sends. Unknown fields, wrong types, out-of-range values and
    /// non-objects are [`Error::InvalidParameter`] errors.
    pub fn from_json(json: &str) -> Result<AttackParams> {
        let bad = |e: serde_json::Error| Error::param("params", e.to_string());
        let value: serde_json::Value = serde_json::from_str(json).map_err(bad)?;
        if !value.is_object() {
            return Err(Error::param("params", "must be a JSON object such as {\"eta\": 0.1}"));
        }
        let p: AttackParams = serde_json::from_value(value).map_err(bad)?;
        p.validate()?;
        Ok(p)
    }

    /// The parameters of attack `attack` on inputs of shape `[C, H, W]`: the one entry point of the page and the
    /// CLI (see the module docs for the rules). `overrides` is a JSON object of [`AttackParams`] fields (or
    /// `null`, meaning `{}`); unknown fields, wrong types and out-of-range values are [`Error::InvalidParameter`].
    /// Resolving the result's [`AttackParams::to_json`] again gives the same parameters.
    ///
    /// ```
    /// use advlab::attacks::{AttackParams, Norm};
    /// use serde_json::json;
    ///
    /// // PGD-40 under L2 at ε = 2 on MNIST: the step is 2.5·ε/40.
    /// let p = AttackParams::resolve("pgd", [1, 28, 28], &json!({"eta": 2.0, "norm": "l2"}))?;
    /// assert_eq!((p.norm, p.steps, p.step_size), (Norm::L2, 40, 0.125));
    /// // The L2 cap is √(C·H·W): 28 for MNIST, ≈ 388 for a 224×224 photo.
    /// assert!(AttackParams::resolve("pgd", [1, 28, 28], &json!({"eta": 30.0, "norm": "l2"})).is_err());
    /// assert!(AttackParams::resolve("pgd", [3, 224, 224], &json!({"eta": 30.0, "norm": "l2"})).is_ok());
    /// # Ok::<(), advlab::Error>(())
    /// ```
    pub fn resolve(attack: &str, input_shape: [usize; 3], overrides: &serde_json::Value) -> Result<AttackParams> {
        let a = by_name(attack)?;
        if let Some(reason) = a.refuses(input_shape) {
            return Err(Error::param("attack", reason));
        }
        let empty = serde_json::Map::new();
        let obj = match overrides {
            serde_json::Value::Null => &empty,
            serde_json::Value::Object(o) => o,
            _ => return Err(Error::param("params", "must be a JSON object such as {\"eta\": 0.1}")),
        };
        let mut p: AttackParams = serde_json::from_value(serde_json::Value::Object(obj.clone()))
            .map_err(|e| Error::param("params", e.to_string()))?;
        let protocol = match p.protocol.take().as_deref() {
            None => false,
            Some("defences") => true,
            Some(_) => return Err(Error::param("protocol", "the only protocol is \"defences\"")),
        };
        let norms = a.supported_norms();
        if !obj.contains_key("norm") {
            p.norm = norms[0];
        } else if !norms.contains(&p.norm) {
            return Err(Error::param(
                "norm",
                format!("{attack} does not support the {} norm", p.norm.as_str()),
            ));
        }
        if !obj.contains_key("eta") {
            p.eta = fixed_eta_of(attack).unwrap_or_else(|| default_eta(p.norm, input_shape));
        }
        let own_steps = default_steps_of(attack);
        if let (Some(steps), false) = (own_steps, obj.contains_key("steps")) {
            p.steps = steps;
        }
        if protocol && p.norm == Norm::Linf && !obj.contains_key("step_size") && p.eta.is_finite() {
            // The protocol's PGD-40; APGD keeps its own iteration count (it chooses its steps itself).
            if !obj.contains_key("steps") && own_steps.is_none() {
                p.steps = DEFENCES_STEPS;
            }
            p.step_size = defences_step(p.eta);
        }
        let madry_step = p.norm == Norm::L2 || (!protocol && super::is_photo_shape(input_shape));
        if madry_step && !obj.contains_key("step_size") && p.steps > 0 && p.eta.is_finite() {
            let alpha = 2.5 * p.eta / p.steps as f32;
            if alpha > 0.0 {
                p.step_size = alpha;
            }
        }
        if let Some(b) = budget_of(attack) {
            let v = match b.param {
                "pixels" => p.pixels,
                _ => p.max_queries,
            };
            if v < b.min || v > b.max {
                return Err(Error::param(
                    b.param,
                    format!("{attack} takes {} in [{}, {}], got {v}", b.param, b.min, b.max),
                ));
            }
        }
        p.validate_for(input_shape)?;
        Ok(p)
    }

    /// The JSON form (the inverse of [`AttackParams::from_json`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("params serialise")
    }
}
