//! SimBA, the Simple Black-box Attack (Guo et al., "Simple Black-box Adversarial Attacks", ICML 2019), in the
//! pixel (Cartesian) basis.
//!
//! Pick basis directions `q = e_i` in a random order (without replacement); try `x' − εq`, then `x' + εq`, and keep
//! the first that lowers the model's probability of the true class `p(y | x')` (untargeted) or raises that of the
//! target `p(t | x')` (targeted), compared as log-probabilities (see [`prob_objective`]). Only output probabilities are used; every tried image is one query.
//!
//! * L∞ variant (default): coordinate `i` may take the values `xᵢ ± η` (clipped to `[0,1]`): each step jumps to a
//!   corner of the η-box, so the result stays inside it. Once every pixel has been tried, further passes (in a
//!   new random order) try the other corner of each coordinate, while the budget lasts.
//! * L2 variant: steps of `α = params.step_size` (the paper's ε) around the current value; a step that would leave
//!   the L2 ball of radius η is not tried.
//!
//! Stops at success, when `params.max_queries` queries (the clean evaluation included) are spent, or when a whole
//! pass improves nothing. Each query is a forward pass on one image: the algorithm is sequential (every accepted
//! step changes the point the next candidates start from).

use rand_chacha::ChaCha8Rng;

use super::{norms, report, Attack, AttackKind, Context, Crafted, Goal, Norm, Progress};
use crate::error::Result;

/// SimBA, pixel basis (`"simba"`).
pub struct SimBA;

/// The quantity SimBA lowers: `log p(y|x')` untargeted, `−log p(t|x')` targeted.
///
/// The paper states the objective with probabilities; the log is monotone, so it ranks candidates identically,
/// but computed as `log p_c = −log1p(Σ_{j≠c} exp(z_j − z_c))` it does not saturate: for a confident CNN `p(y|x')`
/// rounds to exactly 1.0 in f32 (and a plain log-softmax to exactly 0), every candidate would tie, and the search
/// would stop after one pass having accepted nothing.
pub(crate) fn prob_objective(goal: Goal, z: &[f32], _buf: &mut Vec<f32>) -> f32 {
    let log_p = |c: usize| -> f32 {
        let zc = z[c] as f64;
        let rest: f64 = z
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != c)
            .map(|(_, &v)| (v as f64 - zc).exp())
            .sum();
        -(rest.ln_1p()) as f32
    };
    match goal {
        Goal::Untargeted { true_class } => log_p(true_class),
        Goal::Targeted { target } => -log_p(target),
    }
}

impl Attack for SimBA {
    fn name(&self) -> &'static str {
        "simba"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Query
    }
    fn total_steps(&self, ctx: &Context) -> usize {
        ctx.params.max_queries
    }
    fn craft(
        &self,
        ctx: &Context,
        rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let x = ctx.x_flat();
        let n = x.len();
        let eps = p.eta;
        let goal = ctx.goal;
        let mut buf = Vec::with_capacity(ctx.clean_logits.len());
        let mut best = prob_objective(goal, &ctx.clean_logits, &mut buf);
        let mut adv = ctx.x.clone();
        let mut queries = 1;
        let mut steps = 0;
        let mut l2sq = 0.0f64;
        let mut success = false;
        'passes: while !success && queries < p.max_queries {
            let mut improved = false;
            for i in norms::permutation(rng, n) {
                if queries >= p.max_queries {
                    break 'passes;
                }
                steps += 1;
                if steps % 64 == 0 {
                    report(
                        progress,
                        Progress {
                            step: steps,
                            total: p.max_queries,
                            queries,
                            success,
                        },
                    )?;
                }
                let old = adv.as_slice().expect("standard layout")[i];
                let (c1, c2) = match p.norm {
                    Norm::Linf => ((x[i] - eps).max(0.0), (x[i] + eps).min(1.0)),
                    Norm::L2 => ((old - p.step_size).max(0.0), (old + p.step_size).min(1.0)),
                };
                for cand in [c1, c2] {
                    if cand == old || queries >= p.max_queries {
                        continue;
                    }
                    let d_old = (old - x[i]) as f64;
                    let d_new = (cand - x[i]) as f64;
                    let l2_new = l2sq - d_old * d_old + d_new * d_new;
                    if p.norm == Norm::L2 && l2_new.max(0.0).sqrt() > eps as f64 * (1.0 - 1e-6) {
                        continue;
                    }
                    adv.as_slice_mut().expect("standard layout")[i] = cand;
                    let z = ctx.model.logits(adv.view());
                    let z = z.row(0);
                    let z = z.as_slice().expect("contiguous");
                    queries += 1;
                    let obj = prob_objective(goal, z, &mut buf);
                    if obj < best {
                        best = obj;
                        l2sq = l2_new;
                        improved = true;
                        success = goal.is_success_logits(z);
                        break;
                    }
                    adv.as_slice_mut().expect("standard layout")[i] = old;
                }
                if success {
                    break 'passes;
                }
            }
            if !improved {
                break;
            }
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}
