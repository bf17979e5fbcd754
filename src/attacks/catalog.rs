//! The attack catalog: what the engine offers for one input shape, so the page (and the CLI) keep no copy of the
//! engine's rules.
//!
//! For an input of `n = C·H·W` values in `[0, 1]`:
//!
//! * **η caps** ([`EtaCaps::for_shape`]): L∞ `1` (no pixel can move further), L2 `√n` (the L2 norm of the all-ones
//!   change, the diagonal of the unit cube: no perturbation that stays in `[0,1]ⁿ` is longer). For MNIST
//!   (`n = 784`) that is the old constant 28; for a 224×224 photo it is `√150 528 ≈ 388`.
//! * **default η** ([`default_eta`]): L∞ `η₀ = 0.1·min(1, √(784/n))`, rounded to the flip grid 0.001, so that the
//!   L2 length of the sign perturbation, `η₀·√n`, stays the 2.8 it has on MNIST (the article's `η·m·n` argument:
//!   the change of a linear score grows with `n`). MNIST keeps the protocol's 0.1; a 3×224×224 photo starts at
//!   0.007 (≈ 1.8/255). L2: the protocol's ε = 2.0 for every size (already a length).
//! * **refusals** ([`super::Attack::refuses`]): JSMA's saliency map scores every *pair* of pixels, `O(n²)` per
//!   iteration over `γn/2` iterations, so it is refused above [`super::jsma::JSMA_MAX_INPUTS`] inputs.
//!
//! ```json
//! {"name": "one_pixel", "kind": "query", "norms": ["linf"], "targeted": true,
//!  "eta_max": {"linf": 1.0, "l2": 28.0}, "slider_end": {"linf": 0.5, "l2": 5.0}, "default_eta": 0.1,
//!  "budget": {"param": "pixels", "min": 1, "max": 5, "default": 1}, "fixed_eta": 1.0, "refused": null}
//! ```

use serde::{Deserialize, Serialize};

use super::{by_name, Norm, ATTACK_NAMES};

/// How the page drives an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// FGSM-like: one direction `s` per image; a slider move is one forward pass on `clip(x + η·s)`.
    Direction,
    /// White-box, many gradient steps (BIM, PGD, MI-FGSM, DeepFool, C&W, JSMA): run in a worker with progress.
    Iterative,
    /// Black-box, only forward passes under a query budget (SimBA, Square, one-pixel).
    Query,
}

impl AttackKind {
    /// `"direction"` / `"iterative"` / `"query"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::Direction => "direction",
            AttackKind::Iterative => "iterative",
            AttackKind::Query => "query",
        }
    }
}

/// The largest η accepted in each norm, for one input shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EtaCaps {
    /// Always 1: a pixel in `[0, 1]` cannot move further.
    pub linf: f32,
    /// `√(C·H·W)`: the L2 norm of the all-ones change.
    pub l2: f32,
}

impl EtaCaps {
    /// The caps for inputs of shape `[C, H, W]` (see the module docs).
    pub fn for_shape(shape: [usize; 3]) -> EtaCaps {
        EtaCaps {
            linf: 1.0,
            l2: (input_len(shape) as f32).sqrt(),
        }
    }
    /// The cap in `norm`.
    pub fn cap(self, norm: Norm) -> f32 {
        match norm {
            Norm::Linf => self.linf,
            Norm::L2 => self.l2,
        }
    }
}

/// The flip-η grid step on photos: 0.0001, a fortieth of a grey level, because photos flip at η ≈ 0.001.
pub const PHOTO_FLIP_STEP: f32 = 0.0001;

/// The photo slider's end in L∞: 16/255, the largest budget in the ImageNet literature (Madry et al. 2018 use
/// 8/255 on CIFAR; Kurakin et al. 2017 sweep up to 16/255 on ImageNet) and far past where photos flip.
pub const PHOTO_LINF_END: f32 = 16.0 / 255.0;

/// How far the flip point is searched in `norm`: the end of the page's η slider, and the CLI's default
/// `--max-eta`. Digits: L∞ `0.5` (past it the grey speckle hides the digit); photos: L∞ [`PHOTO_LINF_END`].
/// L2 is ten times the L∞ end (the slider's ×10 scale for L2, `www/slider.js`), capped by
/// [`EtaCaps::for_shape`] so a tiny input never searches past its own diagonal.
pub fn flip_search_max(norm: Norm, shape: [usize; 3]) -> f32 {
    let linf_end = if is_photo_shape(shape) { PHOTO_LINF_END } else { 0.5 };
    let end = match norm {
        Norm::Linf => linf_end,
        Norm::L2 => 10.0 * linf_end,
    };
    end.min(EtaCaps::for_shape(shape).cap(norm))
}

/// The flip-η grid step for inputs of `shape`: [`super::FLIP_STEP`] (0.001) on digits, [`PHOTO_FLIP_STEP`]
/// on photos. The page's `flip-eta` and `advlab attack --json`'s `flip_eta` lie on this grid.
pub fn flip_step(shape: [usize; 3]) -> f32 {
    if is_photo_shape(shape) {
        PHOTO_FLIP_STEP
    } else {
        super::FLIP_STEP
    }
}

/// Whether `shape` is a colour photo (three channels, RGB), so the photo rules apply. Grey inputs of any size
/// (digits, the linear lesson's resolution models) keep the digit rules.
pub fn is_photo_shape(shape: [usize; 3]) -> bool {
    shape[0] == 3
}

/// The one budget knob a page shows for an attack, and its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetInfo {
    /// The [`super::AttackParams`] field it sets: `"pixels"` or `"max_queries"`.
    pub param: &'static str,
    pub min: usize,
    pub max: usize,
    pub default: usize,
}

/// One catalog entry (the JSON shape is in the module docs).
#[derive(Debug, Clone, Serialize)]
pub struct AttackInfo {
    /// The registry name (one of [`ATTACK_NAMES`]).
    pub name: &'static str,
    pub kind: AttackKind,
    /// The norms this attack supports; the first is its default.
    pub norms: Vec<Norm>,
    /// Whether it takes a target class.
    pub targeted: bool,
    /// η caps for this input shape.
    pub eta_max: EtaCaps,
    /// The page's η slider end and the flip search's reach per norm ([`flip_search_max`]): digits L∞ 0.5,
    /// photos L∞ 16/255; L2 ten times that.
    pub slider_end: EtaCaps,
    /// A sensible first L∞ η for this input size ([`default_eta`]).
    pub default_eta: f32,
    /// The budget knob, if the attack has one.
    pub budget: Option<BudgetInfo>,
    /// `Some(η)` when the attack does not follow the page's η slider but runs at this fixed η ([`fixed_eta_of`]):
    /// one-pixel, an L0 attack whose budget is its pixel count. Absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_eta: Option<f32>,
    /// `Some(reason)` when the attack refuses this input size (JSMA on a photo).
    pub refused: Option<String>,
}

/// `C·H·W`.
pub fn input_len(shape: [usize; 3]) -> usize {
    shape[0] * shape[1] * shape[2]
}

/// The default η of `norm` for inputs of shape `[C, H, W]` (see the module docs):
/// L∞ `round₀.₀₀₁(0.1·min(1, √(784/n)))` (at least 0.001), L2 `min(2.0, √n)`.
pub fn default_eta(norm: Norm, shape: [usize; 3]) -> f32 {
    let n = input_len(shape).max(1) as f32;
    match norm {
        Norm::Linf => {
            let e = 0.1 * (784.0 / n).sqrt().min(1.0);
            ((e * 1000.0).round() / 1000.0).max(0.001)
        }
        Norm::L2 => 2.0f32.min(n.sqrt()),
    }
}

/// Largest one-pixel `k` the catalog offers (Su et al. 2019 report k = 1, 3 and 5).
pub const MAX_PIXELS: usize = 5;
/// Largest query budget the catalog offers (the same bound [`super::AttackParams::validate`] checks).
pub const MAX_QUERIES: usize = 10_000_000;

/// The η an attack runs at when none is given, if it is not the slider's: one-pixel's `1` (Su et al. 2019: each of
/// the k changed pixels may take any value in `[0, 1]`; the attack is bounded in L0 by its budget k, not in L∞).
/// An explicit `eta` still caps each pixel's change, as the CLI's `--eta` does.
pub fn fixed_eta_of(name: &str) -> Option<f32> {
    match name {
        "one_pixel" => Some(1.0),
        _ => None,
    }
}

/// The iteration count an attack runs when `steps` is not given, if it is not [`super::AttackParams::default`]'s
/// 40 (the protocol's PGD-40): APGD-CE and APGD-T's `N_iter = 100`, AutoAttack's standard budget
/// ([`super::apgd::DEFAULT_STEPS`]; Croce & Hein 2020 schedule their step-size checkpoints on it).
pub fn default_steps_of(name: &str) -> Option<usize> {
    match name {
        "apgd-ce" | "apgd-t" => Some(super::apgd::DEFAULT_STEPS),
        _ => None,
    }
}

/// The budget knob of attack `name`, with the defaults of [`super::AttackParams::default`].
pub(crate) fn budget_of(name: &str) -> Option<BudgetInfo> {
    let d = super::AttackParams::default();
    match name {
        "one_pixel" => Some(BudgetInfo {
            param: "pixels",
            min: 1,
            max: MAX_PIXELS,
            default: d.pixels,
        }),
        "simba" | "square" => Some(BudgetInfo {
            param: "max_queries",
            min: 1,
            max: MAX_QUERIES,
            default: d.max_queries,
        }),
        _ => None,
    }
}

/// Every attack of [`ATTACK_NAMES`], in order, as it applies to inputs of shape `[C, H, W]`.
///
/// ```
/// use advlab::attacks::{catalog, AttackKind};
///
/// let photo = catalog([3, 224, 224]);
/// let fgsm = photo.iter().find(|a| a.name == "fgsm").unwrap();
/// assert_eq!((fgsm.kind, fgsm.default_eta), (AttackKind::Direction, 0.007));
/// assert!(photo.iter().find(|a| a.name == "jsma").unwrap().refused.is_some());
/// assert!(catalog([1, 28, 28]).iter().all(|a| a.refused.is_none()));
/// ```
pub fn catalog(input_shape: [usize; 3]) -> Vec<AttackInfo> {
    ATTACK_NAMES
        .iter()
        .map(|&name| {
            let a = by_name(name).expect("every registered name resolves");
            AttackInfo {
                name: a.name(),
                kind: a.kind(),
                norms: a.supported_norms().to_vec(),
                targeted: a.supports_target(),
                eta_max: EtaCaps::for_shape(input_shape),
                slider_end: EtaCaps {
                    linf: flip_search_max(Norm::Linf, input_shape),
                    l2: flip_search_max(Norm::L2, input_shape),
                },
                default_eta: default_eta(Norm::Linf, input_shape),
                budget: budget_of(name),
                fixed_eta: fixed_eta_of(name),
                refused: a.refuses(input_shape),
            }
        })
        .collect()
}
