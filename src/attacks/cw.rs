//! Carlini–Wagner L2 (Carlini & Wagner, "Towards Evaluating the Robustness of Neural Networks", IEEE S&P 2017).
//!
//! Change of variables `x'(w) = ½(tanh w + 1)` keeps `x'` in the box; minimise with Adam
//!
//! ```text
//! ‖x'(w) − x‖₂² + c·f(x'(w)),
//! f(x') = max(max_{i≠t} Z_i(x') − Z_t(x'), −κ)     (targeted on t)
//! f(x') = max(Z_y(x') − max_{i≠y} Z_i(x'), −κ)     (untargeted, true class y)
//! ```
//!
//! with a binary search over `c` (`params.binary_search_steps`, starting at `params.initial_const`: halve the
//! interval on success, ×10 while no success has been seen), `params.cw_steps` Adam steps of
//! `params.learning_rate` per `c`, and the authors' early abort (every tenth of the steps, stop when the loss
//! has not decreased by 0.01 %). κ is `params.confidence`.
//!
//! Implementation notes. `w₀ = atanh((2x − 1)·0.999999)` as in the authors' code; we write
//! `x'(w) = clip₍₀,₁₎(x + ½(tanh w − tanh w₀))`, which differs from `½(tanh w + 1)` by < 10⁻⁶ but makes `x'(w₀) = x`
//! exactly. C&W is a minimum-norm attack; here η is a **hard cap** in `params.norm`: the result is the successful
//! iterate of smallest L2 norm inside the cap; when there is none, the smallest successful iterate (or else the
//! last iterate) projected onto the cap, whose `flipped` is then measured honestly.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::{argmax_except, norms, report, std_layout, Attack, AttackKind, Context, Crafted, Goal, Norm, Progress};
use crate::error::Result;

/// Carlini–Wagner L2 (`"cw"`).
pub struct CarliniWagner;

/// The authors' factor keeping `atanh` finite at 0 and 1.
const TANH_SCALE: f64 = 0.999_999;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;

struct Candidate {
    l2sq: f64,
    adv: Vec<f32>,
}

impl Attack for CarliniWagner {
    fn name(&self) -> &'static str {
        "cw"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Iterative
    }
    fn total_steps(&self, ctx: &Context) -> usize {
        ctx.params.binary_search_steps * ctx.params.cw_steps
    }
    fn craft(
        &self,
        ctx: &Context,
        _rng: &mut ChaCha8Rng,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<Crafted> {
        let p = ctx.params;
        let model = ctx.model;
        let k = model.num_classes();
        let x = ctx.x_flat();
        let n = x.len();
        let goal = ctx.goal;
        let c_class = goal.class();
        let kappa = p.confidence;
        let w0: Vec<f32> = x
            .iter()
            .map(|&v| ((2.0 * v as f64 - 1.0) * TANH_SCALE).atanh() as f32)
            .collect();
        let t0: Vec<f32> = w0.iter().map(|v| v.tanh()).collect();

        let mut best_in_cap: Option<Candidate> = None;
        let mut best_any: Option<Candidate> = None;
        let mut adv = ctx.x.clone();
        let (mut lo, mut hi, mut c) = (0.0f64, 1e10f64, p.initial_const as f64);
        let total = p.binary_search_steps * p.cw_steps;
        let mut queries = 1;
        let mut steps = 0;
        let mut w = vec![0.0f32; n];
        let mut tw = vec![0.0f32; n];
        let mut m1 = vec![0.0f32; n];
        let mut m2 = vec![0.0f32; n];
        let mut grad = vec![0.0f32; n];
        let mut delta = vec![0.0f32; n];
        let mut dlogits = Array2::<f32>::zeros((1, k));
        for _ in 0..p.binary_search_steps {
            w.copy_from_slice(&w0);
            m1.iter_mut().for_each(|v| *v = 0.0);
            m2.iter_mut().for_each(|v| *v = 0.0);
            let mut succeeded = false;
            let mut prev_loss = f64::INFINITY;
            let check_every = (p.cw_steps / 10).max(1);
            for it in 0..p.cw_steps {
                if steps > 0 {
                    report(
                        progress,
                        Progress {
                            step: steps,
                            total,
                            queries,
                            success: best_in_cap.is_some(),
                        },
                    )?;
                }
                steps += 1;
                // x'(w) and δ.
                let a = adv.as_slice_mut().expect("standard layout");
                let mut l2sq = 0.0f64;
                let mut dist = 0.0f64;
                let mut linf = 0.0f32;
                for i in 0..n {
                    tw[i] = w[i].tanh();
                    delta[i] = 0.5 * (tw[i] - t0[i]);
                    a[i] = (x[i] + delta[i]).clamp(0.0, 1.0);
                    dist += (delta[i] as f64).powi(2);
                    l2sq += ((a[i] - x[i]) as f64).powi(2);
                    linf = linf.max((a[i] - x[i]).abs());
                }
                let z = model.logits(adv.view()).row(0).to_vec();
                queries += 1;
                let margin = goal.margin(&z);
                let loss = dist + c * margin.max(-kappa) as f64;
                if margin <= -kappa && goal.is_success_logits(&z) {
                    succeeded = true;
                    let size = match p.norm {
                        Norm::Linf => linf,
                        Norm::L2 => l2sq.sqrt() as f32,
                    };
                    let slot = if size <= p.eta { &mut best_in_cap } else { &mut best_any };
                    if slot.as_ref().is_none_or(|b| l2sq < b.l2sq) {
                        let a = adv.as_slice().expect("standard layout");
                        match slot {
                            Some(b) => {
                                b.l2sq = l2sq;
                                b.adv.copy_from_slice(a);
                            }
                            None => *slot = Some(Candidate { l2sq, adv: a.to_vec() }),
                        }
                    }
                }
                if it > 0 && it % check_every == 0 {
                    if loss > prev_loss * 0.9999 {
                        break;
                    }
                    prev_loss = loss;
                }
                // ∂loss/∂x' = 2δ + c·∂f/∂x' (f is flat at −κ once the margin is reached).
                for i in 0..n {
                    grad[i] = 2.0 * delta[i];
                }
                if margin > -kappa {
                    let j = argmax_except(&z, c_class);
                    dlogits.fill(0.0);
                    let (plus, minus) = match goal {
                        Goal::Untargeted { .. } => (c_class, j),
                        Goal::Targeted { .. } => (j, c_class),
                    };
                    dlogits[[0, plus]] = c as f32;
                    dlogits[[0, minus]] = -(c as f32);
                    let (_, g) = model.logits_vjp(adv.view(), dlogits.view());
                    queries += 1;
                    let g = std_layout(g);
                    for (gi, &v) in grad.iter_mut().zip(g.as_slice().expect("standard layout")) {
                        *gi += v;
                    }
                }
                // Chain rule through x' = x + ½(tanh w − tanh w₀), then one Adam step on w.
                let t = (it + 1) as i32;
                let (b1t, b2t) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
                for i in 0..n {
                    let gw = grad[i] * 0.5 * (1.0 - tw[i] * tw[i]);
                    m1[i] = BETA1 * m1[i] + (1.0 - BETA1) * gw;
                    m2[i] = BETA2 * m2[i] + (1.0 - BETA2) * gw * gw;
                    w[i] -= p.learning_rate * (m1[i] / b1t) / ((m2[i] / b2t).sqrt() + ADAM_EPS);
                }
            }
            if succeeded {
                hi = hi.min(c);
                c = (lo + hi) / 2.0;
            } else {
                lo = lo.max(c);
                c = if hi < 1e9 { (lo + hi) / 2.0 } else { c * 10.0 };
            }
        }
        let a = adv.as_slice_mut().expect("standard layout");
        match (best_in_cap, best_any) {
            (Some(b), _) => a.copy_from_slice(&b.adv),
            (None, Some(b)) => {
                a.copy_from_slice(&b.adv);
                norms::project(a, x, p.eta, p.norm);
            }
            (None, None) => norms::project(a, x, p.eta, p.norm),
        }
        Ok(Crafted {
            adversarial: adv,
            queries,
            steps,
        })
    }
}
