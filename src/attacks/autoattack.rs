//! AutoAttack, the standard version (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble
//! of diverse parameter-free attacks", ICML 2020, §5), with the checks that tell when an evaluation looks broken.
//!
//! **The sequence, on one image** ([`audit_image`]): the clean prediction first (a misclassified image counts as
//! not robust and is not attacked), then each attack only while the image is still classified correctly:
//!
//! | stage | attack | budget |
//! |---|---|---|
//! | `apgd-ce` | [`super::ApgdCe`], untargeted | 100 iterations |
//! | `apgd-t` | [`super::ApgdT`], the top-9 other classes in turn | 9 × 100 iterations |
//! | `square` | [`super::Square`], margin loss, `p_init = 0.8` | 5000 queries |
//!
//! The paper's fourth attack, FAB-T (Croce & Hein, ICML 2020, "Minimally distorted adversarial examples with a fast
//! adaptive boundary attack"), is left out, as the Adversarial Robustness Toolbox's AutoAttack leaves it out: its
//! step is a projection onto the intersection of a linearised decision boundary, the ε-ball and the box, a
//! minimum-norm problem of its own, and the AutoAttack paper reports that after APGD-CE and APGD-T it rarely lowers
//! the robust accuracy further (README, "AutoAttack"). Square has no L2 version here: under L2 its stage is
//! skipped (`skipped: true`, the image keeps its state), and the black-box check cannot fire.
//!
//! Every stage runs with an RNG seeded by the image's seed itself, so a stage's result is what
//! `advlab attack --attack apgd-t --seed S` gives on that image. The robust accuracy after a stage is the share of
//! images that every stage up to it failed to break.
//!
//! **The checks**, per image (not counted in the AutoAttack queries) and summed over a data set by [`summarize`]
//! into [`Flag`]s (the rules of the authors' `checks.py` and Carlini et al. 2019, "On evaluating adversarial
//! robustness"):
//!
//! * `fgsm_gap`: FGSM at the same ε (a reference row, not part of AutoAttack; run on every image, the
//!   misclassified included, so that FGSM *fixing* a prediction shows) keeps at least [`FGSM_GAP`] (20 points)
//!   more accuracy than AutoAttack while failing on most images (FGSM accuracy ≥ half the clean accuracy), or
//!   keeps more than the clean accuracy: the single-step attack is being fooled (gradient masking, or the
//!   catastrophic overfitting of FGSM training, Wong et al. 2020). A plain model that FGSM mostly breaks and
//!   APGD breaks completely is not flagged: there the gap is only FGSM being weak.
//! * `blackbox_beats_whitebox`: Square broke more than [`SQUARE_SHARE`] (0.2 %, `checks.py`'s α) of the images,
//!   after both gradient attacks had failed on them.
//! * `zero_gradients`: the input gradient of the cross-entropy, or of the DLR loss, is exactly zero at the clean
//!   image (a saturated softmax, or a model that is flat almost everywhere, e.g. quantised inputs).
//! * `probability_outputs`: the outputs look like probabilities, not logits: every value in `[0, 1]` and the sum
//!   within [`PROBABILITY_TOLERANCE`] of 1.
//! * `randomness`: two identical forward passes of the image differ (bitwise).

use ndarray::{s, ArrayView4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{
    apply_direction, argmax, by_name, catalog, check_image, dlr, image_seed, norms, AttackParams, Classifier, EtaCaps,
    Goal, Norm,
};
use crate::error::{check_range, Error, Result};

/// Square's query budget in the standard version.
pub const SQUARE_QUERIES: usize = 5000;
/// Square's initial square size (the share of pixels), as in AutoAttack.
pub const SQUARE_P_INIT: f32 = 0.8;
/// APGD-T's number of target classes.
pub const TARGETS: usize = 9;
/// `fgsm_gap` fires when FGSM keeps at least this much more accuracy than AutoAttack (20 points) …
pub const FGSM_GAP: f64 = FGSM_GAP_POINTS / 100.0;
/// [`FGSM_GAP`] in accuracy points.
pub const FGSM_GAP_POINTS: f64 = 20.0;
/// `blackbox_beats_whitebox` fires when Square breaks more than this share of the images (`checks.py`'s α).
pub const SQUARE_SHARE: f64 = 0.002;
/// Outputs within this of summing to 1 (and all in `[0, 1]`) look like probabilities.
pub const PROBABILITY_TOLERANCE: f64 = 1e-3;

/// One stage of the sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Stage {
    #[serde(rename = "apgd-ce")]
    ApgdCe,
    #[serde(rename = "apgd-t")]
    ApgdT,
    #[serde(rename = "square")]
    Square,
}

/// The stages, in order.
pub const STAGES: [Stage; 3] = [Stage::ApgdCe, Stage::ApgdT, Stage::Square];

impl Stage {
    /// The attack's registry name (`"apgd-ce"`, `"apgd-t"`, `"square"`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::ApgdCe => "apgd-ce",
            Stage::ApgdT => "apgd-t",
            Stage::Square => "square",
        }
    }
    /// The stage called `name`.
    pub fn from_name(name: &str) -> Option<Stage> {
        STAGES.into_iter().find(|s| s.name() == name)
    }
}

/// What broke an image: its clean prediction was already wrong, or a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum BrokenBy {
    #[serde(rename = "clean")]
    Clean,
    #[serde(rename = "apgd-ce")]
    ApgdCe,
    #[serde(rename = "apgd-t")]
    ApgdT,
    #[serde(rename = "square")]
    Square,
}

impl BrokenBy {
    /// `"clean"` or a stage's name.
    pub fn from_name(name: &str) -> Option<BrokenBy> {
        match name {
            "clean" => Some(BrokenBy::Clean),
            _ => Stage::from_name(name).map(BrokenBy::from),
        }
    }
}

impl From<Stage> for BrokenBy {
    fn from(s: Stage) -> BrokenBy {
        match s {
            Stage::ApgdCe => BrokenBy::ApgdCe,
            Stage::ApgdT => BrokenBy::ApgdT,
            Stage::Square => BrokenBy::Square,
        }
    }
}

/// Whether an image broken by `b` (`None`: never) still counts as robust after `stage`.
fn robust_after(b: Option<BrokenBy>, stage: Stage) -> bool {
    b.is_none_or(|b| b > BrokenBy::from(stage))
}

/// The audit's settings: ε, norm and seed, and the standard budgets (tests shrink them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditParams {
    pub eta: f32,
    pub norm: Norm,
    pub seed: u64,
    /// APGD's `N_iter`, per run (100).
    pub steps: usize,
    /// APGD-T's target classes (9).
    pub targets: usize,
    /// Square's query budget (5000).
    pub square_queries: usize,
}

/// The fields [`AuditParams::resolve`] reads.
const AUDIT_FIELDS: [&str; 6] = ["eta", "norm", "seed", "steps", "targets", "square_queries"];

/// Field `key` of a JSON object: absent or `null` is `None`, a value of another type an error naming it.
fn field<T>(
    o: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    read: impl Fn(&serde_json::Value) -> Option<T>,
    what: &str,
) -> Result<Option<T>> {
    match o.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => read(v)
            .map(Some)
            .ok_or_else(|| Error::param(key, format!("must be {what}"))),
    }
}

fn count(v: &serde_json::Value) -> Option<usize> {
    v.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// The ε of the robustness literature for a dataset, L∞: MNIST 0.3 (Madry et al. 2018), Fashion-MNIST 0.1 (the
/// defences protocol of this README); `None` for others.
pub fn default_eta_for(dataset: &str) -> Option<f32> {
    DATASET_ETA.iter().find(|(d, _)| *d == dataset).map(|&(_, e)| e as f32)
}

/// [`default_eta_for`]'s table.
const DATASET_ETA: [(&str, f64); 2] = [("mnist", 0.3), ("fashion", 0.1)];

impl AuditParams {
    /// The settings for a model with inputs of `shape` trained on `dataset`, from a JSON object of overrides
    /// (`{eta, norm, seed}` and the budgets `steps`, `targets`, `square_queries`; `null` means `{}`). ε absent:
    /// [`default_eta_for`] the dataset under L∞, else the catalog's [`super::default_eta`]. Every value is
    /// checked; a bad one is an [`Error::InvalidParameter`] naming it (an ε beyond the shape's cap
    /// [`EtaCaps::for_shape`], a NaN, an unknown field).
    pub fn resolve(shape: [usize; 3], dataset: &str, overrides: &serde_json::Value) -> Result<AuditParams> {
        let empty = serde_json::Map::new();
        let o = match overrides {
            serde_json::Value::Null => &empty,
            serde_json::Value::Object(o) => o,
            _ => return Err(Error::param("options", "must be an object such as {\"eta\": 0.3}")),
        };
        if let Some(k) = o.keys().find(|k| !AUDIT_FIELDS.contains(&k.as_str())) {
            return Err(Error::param(
                "options",
                format!("unknown field `{k}`; known: {}", AUDIT_FIELDS.join(", ")),
            ));
        }
        let norm = field(
            o,
            "norm",
            |v| match v.as_str() {
                Some("linf") => Some(Norm::Linf),
                Some("l2") => Some(Norm::L2),
                _ => None,
            },
            "\"linf\" or \"l2\"",
        )?
        .unwrap_or(Norm::Linf);
        let eta = match field(o, "eta", |v| v.as_f64().map(|e| e as f32), "a number")? {
            Some(e) => e,
            None if norm == Norm::Linf => default_eta_for(dataset).unwrap_or_else(|| catalog::default_eta(norm, shape)),
            None => catalog::default_eta(norm, shape),
        };
        check_range("eta", eta, 0.0, EtaCaps::for_shape(shape).cap(norm))?;
        let p = AuditParams {
            eta,
            norm,
            seed: field(o, "seed", serde_json::Value::as_u64, "a whole number ≥ 0")?.unwrap_or(0),
            steps: field(o, "steps", count, "a whole number")?.unwrap_or(super::apgd::DEFAULT_STEPS),
            targets: field(o, "targets", count, "a whole number")?.unwrap_or(TARGETS),
            square_queries: field(o, "square_queries", count, "a whole number")?.unwrap_or(SQUARE_QUERIES),
        };
        if p.targets == 0 {
            return Err(Error::param("targets", "APGD-T needs at least one target class"));
        }
        for stage in STAGES {
            p.stage_params(stage, shape)?;
        }
        Ok(p)
    }

    /// The parameters of one stage, through the one entry point [`AttackParams::resolve`].
    pub fn stage_params(&self, stage: Stage, shape: [usize; 3]) -> Result<AttackParams> {
        // The fields resolve would set from these overrides; everything else keeps its default, which is what
        // `AttackParams::resolve(stage, shape, {eta, norm, seed, steps | top_k | max_queries, p_init})` gives (the
        // L2 step rule sets a step_size these attacks do not read). Built directly: no JSON in the page's wasm.
        let p = AttackParams {
            eta: self.eta,
            norm: self.norm,
            seed: self.seed,
            ..AttackParams::default()
        };
        let p = match stage {
            Stage::ApgdCe => AttackParams { steps: self.steps, ..p },
            Stage::ApgdT => AttackParams {
                steps: self.steps,
                top_k: self.targets.saturating_add(1),
                ..p
            },
            // Square has no L2 version: its parameters stay L∞ (the stage is skipped under L2).
            Stage::Square => AttackParams {
                norm: Norm::Linf,
                eta: self.eta.min(1.0),
                max_queries: self.square_queries,
                p_init: SQUARE_P_INIT,
                ..p
            },
        };
        if stage == Stage::Square && p.max_queries > catalog::MAX_QUERIES {
            return Err(Error::param(
                "max_queries",
                format!(
                    "square takes max_queries in [1, {}], got {}",
                    catalog::MAX_QUERIES,
                    p.max_queries
                ),
            ));
        }
        p.validate_for(shape)?;
        Ok(p)
    }
}

/// One stage's outcome on one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageOutcome {
    pub name: Stage,
    /// Still classified correctly after this stage (and every stage before it).
    pub robust: bool,
    /// The stage's queries on this image (0 when skipped).
    pub queries: usize,
    /// Not run: the image was already broken (or misclassified), or Square under L2. `robust` then carries the
    /// state over.
    pub skipped: bool,
}

/// The audit of one image ([`audit_image`]). Its JSON (serde, snake_case) reads back with
/// [`AuditOutcome::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditOutcome {
    pub label: usize,
    pub clean_class: usize,
    pub clean_correct: bool,
    /// FGSM at the same ε leaves the image classified as `label` (computed on every image).
    pub fgsm_robust: bool,
    /// The three stages, in order, each run or `skipped`.
    pub stages: Vec<StageOutcome>,
    /// `"clean"` (misclassified to begin with), the stage that broke it, or `null`: robust to AutoAttack.
    pub broken_by: Option<BrokenBy>,
    /// AutoAttack's queries on this image (the stages' sum).
    pub queries: usize,
    /// The input gradient of the cross-entropy or of the DLR loss is exactly zero at the clean image.
    pub zero_gradient: bool,
    /// The outputs lie in `[0, 1]` and sum to 1 within [`PROBABILITY_TOLERANCE`].
    pub probability_outputs: bool,
    /// A second identical forward pass gave different outputs.
    pub repeat_differs: bool,
}

impl AuditOutcome {
    /// Reads back the JSON form of an outcome (what the page hands `auditSummary`). Every field must be there
    /// with its type, except `skipped` (default `false`); a bad one is an [`Error::InvalidParameter`] on
    /// `outcomes` naming it. Written by hand rather than derived: the page's wasm stays smaller.
    pub fn from_json(v: &serde_json::Value) -> Result<AuditOutcome> {
        use serde_json::Value;
        let bad = |what: &str| Error::param("outcomes", format!("an outcome needs {what}"));
        let o = v.as_object().ok_or_else(|| bad("to be an object"))?;
        let num = |k: &str| {
            o.get(k)
                .and_then(count)
                .ok_or_else(|| bad(&format!("`{k}`: a whole number")))
        };
        let flag = |k: &str| {
            o.get(k)
                .and_then(Value::as_bool)
                .ok_or_else(|| bad(&format!("`{k}`: true or false")))
        };
        let stages = o
            .get("stages")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("`stages`: a list"))?
            .iter()
            .map(|s| {
                let name = s.get("name").and_then(Value::as_str).and_then(Stage::from_name);
                let robust = s.get("robust").and_then(Value::as_bool);
                let queries = s.get("queries").and_then(count);
                let skipped = match s.get("skipped") {
                    None | Some(Value::Null) => Some(false),
                    Some(v) => v.as_bool(),
                };
                match (name, robust, queries, skipped) {
                    (Some(name), Some(robust), Some(queries), Some(skipped)) => Ok(StageOutcome {
                        name,
                        robust,
                        queries,
                        skipped,
                    }),
                    _ => Err(bad(
                        "stages of {name: \"apgd-ce\" | \"apgd-t\" | \"square\", robust, queries, skipped}",
                    )),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let broken_by = match o.get("broken_by") {
            None | Some(Value::Null) => None,
            Some(b) => Some(
                b.as_str()
                    .and_then(BrokenBy::from_name)
                    .ok_or_else(|| bad("`broken_by`: null, \"clean\" or a stage"))?,
            ),
        };
        Ok(AuditOutcome {
            label: num("label")?,
            clean_class: num("clean_class")?,
            clean_correct: flag("clean_correct")?,
            fgsm_robust: flag("fgsm_robust")?,
            stages,
            broken_by,
            queries: num("queries")?,
            zero_gradient: flag("zero_gradient")?,
            probability_outputs: flag("probability_outputs")?,
            repeat_differs: flag("repeat_differs")?,
        })
    }
}

/// A progress report of [`audit_image`]: the running stage and its attack's own progress.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AuditProgress {
    pub stage: Stage,
    pub step: usize,
    pub total: usize,
    /// AutoAttack's queries on this image so far.
    pub queries: usize,
}

/// Outputs that look like probabilities: every value in `[0, 1]`, the sum within [`PROBABILITY_TOLERANCE`] of 1.
pub fn looks_like_probabilities(z: &[f32]) -> bool {
    let sum: f64 = z.iter().map(|&v| v as f64).sum();
    z.iter().all(|v| (0.0..=1.0).contains(v)) && (sum - 1.0).abs() <= PROBABILITY_TOLERANCE
}

/// Runs AutoAttack's standard sequence and the checks on image `x` (`[1, C, H, W]` in `[0,1]`) of class `label`
/// (see the module docs). `progress` returning `false` cancels with [`Error::Cancelled`].
pub fn audit_image(
    model: &dyn Classifier,
    x: ArrayView4<f32>,
    label: usize,
    p: &AuditParams,
    progress: &mut dyn FnMut(AuditProgress) -> bool,
) -> Result<AuditOutcome> {
    check_image(model, x)?;
    let k = model.num_classes();
    if label >= k {
        return Err(Error::param(
            "label",
            format!("class {label} does not exist: the model has {k} classes"),
        ));
    }
    let shape = model.input_shape();
    let params: Vec<AttackParams> = STAGES
        .iter()
        .map(|&s| p.stage_params(s, shape))
        .collect::<Result<_>>()?;
    let x = x.as_standard_layout().into_owned();

    // The checks.
    let z = model.logits(x.view()).row(0).to_vec();
    let again = model.logits(x.view()).row(0).to_vec();
    let repeat_differs = z.iter().zip(&again).any(|(a, b)| a.to_bits() != b.to_bits());
    let probability_outputs = looks_like_probabilities(&z);
    let clean_class = argmax(&z);
    let clean_correct = clean_class == label;
    let g_ce = model.ce_gradient(x.view(), &[label]);
    let (_, g_dlr) = model.logits_and_loss_gradient(x.view(), &|_, z, d| {
        dlr::dlr(z, label, Some(d));
    });
    let zero_gradient = g_ce.iter().all(|&v| v == 0.0) || g_dlr.iter().all(|&v| v == 0.0);
    // FGSM, untargeted on the label, from the same gradient: x' = clip(x + ε·s), s = sign(g) or g/‖g‖₂.
    let mut dir = g_ce.as_standard_layout().into_owned();
    let d = dir.as_slice_mut().expect("standard layout");
    match p.norm {
        Norm::Linf => d.iter_mut().for_each(|v| *v = norms::sign(*v)),
        Norm::L2 => norms::normalize_l2(d),
    }
    let fgsm_robust = model.predict(apply_direction(x.view(), dir.view(), p.eta).view())[0] == label;

    // The sequence.
    let mut broken_by = (!clean_correct).then_some(BrokenBy::Clean);
    let mut stages = Vec::with_capacity(STAGES.len());
    let mut queries = 0;
    for (stage, params) in STAGES.into_iter().zip(&params) {
        if broken_by.is_some() || (stage == Stage::Square && p.norm == Norm::L2) {
            stages.push(StageOutcome {
                name: stage,
                robust: broken_by.is_none(),
                queries: 0,
                skipped: true,
            });
            continue;
        }
        let attack = by_name(stage.name())?;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let before = queries;
        let r = attack.run(
            model,
            x.view(),
            Goal::Untargeted { true_class: label },
            params,
            &mut rng,
            &mut |pr| {
                progress(AuditProgress {
                    stage,
                    step: pr.step,
                    total: pr.total,
                    queries: before + pr.queries,
                })
            },
        )?;
        queries += r.queries;
        if r.flipped {
            broken_by = Some(stage.into());
        }
        stages.push(StageOutcome {
            name: stage,
            robust: !r.flipped,
            queries: r.queries,
            skipped: false,
        });
    }
    Ok(AuditOutcome {
        label,
        clean_class,
        clean_correct,
        fgsm_robust,
        stages,
        broken_by,
        queries,
        zero_gradient,
        probability_outputs,
        repeat_differs,
    })
}

/// [`audit_image`] on every image of `images` (`[N, C, H, W]`) with its label; image `i` runs with the seed
/// [`image_seed`]`(p.seed, i)`, in parallel over images natively (rayon), in order in wasm, so the outcomes do not
/// depend on the number of threads.
pub fn audit_all(
    model: &dyn Classifier,
    images: ArrayView4<f32>,
    labels: &[usize],
    p: &AuditParams,
) -> Result<Vec<AuditOutcome>> {
    if images.shape()[0] != labels.len() {
        return Err(Error::Shape(format!(
            "{} images but {} labels",
            images.shape()[0],
            labels.len()
        )));
    }
    super::transfer::par_map(labels.len(), |i| {
        let pi = AuditParams {
            seed: image_seed(p.seed, i),
            ..p.clone()
        };
        audit_image(
            model,
            images.slice(s![i..i + 1, .., .., ..]),
            labels[i],
            &pi,
            &mut |_| true,
        )
    })
    .into_iter()
    .collect()
}

/// One stage over a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSummary {
    pub name: Stage,
    /// Share of all images still classified correctly after this stage and the ones before it.
    pub robust_accuracy: f64,
    /// Images the stage ran on (the ones still robust before it).
    pub attacked: usize,
    /// Its queries over all images.
    pub queries: usize,
    /// Its mean queries per attacked image (0 when it attacked none).
    pub queries_mean: f64,
}

/// Something that makes an evaluation look broken: `key` (the page translates it) and the numbers behind it;
/// [`Flag::explain`] puts it in plain English (the CLI prints that). Absent numbers are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// `blackbox_beats_whitebox`, `zero_gradients`, `probability_outputs`, `randomness` or `fgsm_gap`.
    pub key: &'static str,
    /// Images concerned, of `of`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<usize>,
    pub of: usize,
    /// Accuracy points at stake (`blackbox_beats_whitebox`: what Square took off; `fgsm_gap`: FGSM − AutoAttack).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fgsm_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoattack_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean_accuracy: Option<f64>,
}

impl Flag {
    fn count(key: &'static str, images: usize, of: usize) -> Flag {
        Flag {
            key,
            images: Some(images),
            of,
            points: None,
            fgsm_accuracy: None,
            autoattack_accuracy: None,
            clean_accuracy: None,
        }
    }

    /// The flag in plain English, with its numbers. (The page has its own words for each key, in every
    /// language; this is the command line's. Kept out of [`AuditSummary`], so the page's wasm carries none of it.)
    pub fn explain(&self) -> String {
        let (k, n) = (self.images.unwrap_or(0), self.of);
        let acc = |v: Option<f64>| pct(v.unwrap_or(0.0));
        match self.key {
            "blackbox_beats_whitebox" => format!(
                "Square, which sees only the model's answers, broke {k} of {n} images that APGD-CE and APGD-T, \
                 which follow the gradient, could not ({:.1} points). A black-box attack beating white-box ones is a \
                 warning sign: the gradients mislead the attacks (gradient masking), so white-box numbers alone \
                 overstate the robustness. Report the AutoAttack number, and try Square with more queries or an \
                 adaptive attack.",
                self.points.unwrap_or(0.0)
            ),
            "zero_gradients" => format!(
                "{k} of {n} images have an input gradient of exactly zero (cross-entropy or DLR loss): a gradient \
                 attack cannot take a single step there, so FGSM, PGD and APGD measure nothing on them. Only \
                 Square's result counts for those images."
            ),
            "probability_outputs" => format!(
                "On {k} of {n} images the model's outputs look like probabilities (all in [0, 1], summing to 1), \
                 not logits. The attacks expect logits: a final softmax flattens the loss and its gradient. Remove \
                 it before evaluating."
            ),
            "randomness" => format!(
                "Two identical forward passes gave different outputs on {k} of {n} images: the model is random. \
                 Attacks on a random model must average over its randomness (expectation over transformation, \
                 Athalye et al. 2018); without it the robust accuracy is overstated."
            ),
            "fgsm_gap" if self.fgsm_accuracy > self.clean_accuracy => format!(
                "FGSM leaves {} correct, more than the {} of the clean images: the attack makes the model more \
                 accurate, so its step points the wrong way (label leaking, or a masked gradient). The single-step \
                 number says nothing about robustness; AutoAttack leaves {}.",
                acc(self.fgsm_accuracy),
                acc(self.clean_accuracy),
                acc(self.autoattack_accuracy)
            ),
            "fgsm_gap" => format!(
                "FGSM, one gradient step, leaves {} correct; AutoAttack leaves {}: {:.1} points less. When a single \
                 step fails on most images that many steps break, the gradient at the clean image misleads: \
                 gradient masking, or the catastrophic overfitting of FGSM training (Wong et al. 2020). Never report \
                 the FGSM number as robustness.",
                acc(self.fgsm_accuracy),
                acc(self.autoattack_accuracy),
                self.points.unwrap_or(0.0)
            ),
            other => format!("{other}: {k} of {n} images"),
        }
    }
}

/// AutoAttack over a data set ([`summarize`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditSummary {
    pub n: usize,
    pub clean_accuracy: f64,
    /// FGSM at the same ε (the reference row).
    pub fgsm_accuracy: f64,
    pub stages: Vec<StageSummary>,
    /// The robust accuracy after the last stage: AutoAttack's number.
    pub autoattack_accuracy: f64,
    /// Mean AutoAttack queries per image.
    pub queries_mean: f64,
    /// Empty when nothing looks wrong.
    pub flags: Vec<Flag>,
}

fn share(a: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        a as f64 / n as f64
    }
}

/// A share as a percentage, one decimal: `0.888` → `88.8 %`.
fn pct(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

/// Sums image outcomes into accuracies per stage and raises the flags (the rules are in the module docs). The
/// page and the CLI both call this, so the rules live here only.
pub fn summarize(outcomes: &[AuditOutcome]) -> AuditSummary {
    let n = outcomes.len();
    let count = |f: &dyn Fn(&AuditOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let clean_accuracy = share(count(&|o| o.clean_correct), n);
    let fgsm_accuracy = share(count(&|o| o.fgsm_robust), n);
    let stages: Vec<StageSummary> = STAGES
        .iter()
        .map(|&stage| {
            let ran: Vec<usize> = outcomes
                .iter()
                .filter_map(|o| o.stages.iter().find(|s| s.name == stage && !s.skipped))
                .map(|s| s.queries)
                .collect();
            let queries = ran.iter().sum();
            StageSummary {
                name: stage,
                robust_accuracy: share(count(&|o| robust_after(o.broken_by, stage)), n),
                attacked: ran.len(),
                queries,
                queries_mean: share(queries, ran.len()),
            }
        })
        .collect();
    let autoattack_accuracy = share(count(&|o| o.broken_by.is_none()), n);
    let queries_mean = share(outcomes.iter().map(|o| o.queries).sum(), n);

    let mut flags = Vec::new();
    let by_square = count(&|o| o.broken_by == Some(BrokenBy::Square));
    if by_square > 0 && share(by_square, n) > SQUARE_SHARE {
        flags.push(Flag {
            points: Some(100.0 * by_square as f64 / n as f64),
            ..Flag::count("blackbox_beats_whitebox", by_square, n)
        });
    }
    for (key, k) in [
        ("zero_gradients", count(&|o| o.zero_gradient)),
        ("probability_outputs", count(&|o| o.probability_outputs)),
        ("randomness", count(&|o| o.repeat_differs)),
    ] {
        if k > 0 {
            flags.push(Flag::count(key, k, n));
        }
    }
    let gap = fgsm_accuracy - autoattack_accuracy;
    let masked = gap >= FGSM_GAP - 1e-9 && fgsm_accuracy >= 0.5 * clean_accuracy;
    if n > 0 && (masked || fgsm_accuracy > clean_accuracy) {
        // In points from the counts, so 90 % − 70 % reads 20, not 20.000000000000007.
        let fgsm = count(&|o| o.fgsm_robust) as f64;
        let aa = count(&|o| o.broken_by.is_none()) as f64;
        flags.push(Flag {
            key: "fgsm_gap",
            images: None,
            of: n,
            points: Some(100.0 * (fgsm - aa) / n as f64),
            fgsm_accuracy: Some(fgsm_accuracy),
            autoattack_accuracy: Some(autoattack_accuracy),
            clean_accuracy: Some(clean_accuracy),
        });
    }
    AuditSummary {
        n,
        clean_accuracy,
        fgsm_accuracy,
        stages,
        autoattack_accuracy,
        queries_mean,
        flags,
    }
}

/// One stage as [`info`] describes it.
#[derive(Debug, Clone, Serialize)]
pub struct StageInfo {
    pub name: Stage,
    /// `"iterations"` (APGD-CE), `"iterations × targets"` (APGD-T) or `"queries"` (Square).
    pub budget: &'static str,
    pub iterations: Option<usize>,
    pub targets: Option<usize>,
    pub queries: Option<usize>,
    pub norms: Vec<Norm>,
}

/// The default ε of a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetEta {
    pub dataset: &'static str,
    pub eta: f64,
}

/// What a page needs to describe the audit before running it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditInfo {
    pub stages: Vec<StageInfo>,
    pub default_eta: Vec<DatasetEta>,
    /// The flag thresholds: FGSM gap in accuracy points, Square's share of images, the probability tolerance.
    pub fgsm_gap_points: f64,
    pub square_share: f64,
    pub probability_tolerance: f64,
}

/// The stages with their standard budgets, the default ε per dataset and the flag thresholds.
pub fn info() -> AuditInfo {
    let steps = super::apgd::DEFAULT_STEPS;
    AuditInfo {
        stages: vec![
            StageInfo {
                name: Stage::ApgdCe,
                budget: "iterations",
                iterations: Some(steps),
                targets: None,
                queries: None,
                norms: vec![Norm::Linf, Norm::L2],
            },
            StageInfo {
                name: Stage::ApgdT,
                budget: "iterations × targets",
                iterations: Some(steps),
                targets: Some(TARGETS),
                queries: None,
                norms: vec![Norm::Linf, Norm::L2],
            },
            StageInfo {
                name: Stage::Square,
                budget: "queries",
                iterations: None,
                targets: None,
                queries: Some(SQUARE_QUERIES),
                norms: vec![Norm::Linf],
            },
        ],
        default_eta: DATASET_ETA
            .iter()
            .map(|&(dataset, eta)| DatasetEta { dataset, eta })
            .collect(),
        fgsm_gap_points: FGSM_GAP_POINTS,
        square_share: SQUARE_SHARE,
        probability_tolerance: PROBABILITY_TOLERANCE,
    }
}
