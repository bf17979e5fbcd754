//! Square Attack, L∞ (Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient black-box
//! adversarial attack via random search", ECCV 2020).
//!
//! Random search on the corners of the η-box:
//!
//! ```text
//! init:  x̂ = clip(x + η·s), s ∈ {−1, +1} drawn per channel and image column (vertical stripes)
//! loop:  side s_i = round(√(p_i·n/c)) clamped to [1, h−1], a random s_i × s_i window,
//!        one random ±η per channel on the whole window (redrawn until the window changes);
//!        x_new = clip(x + δ_new); keep it if L(x_new) < L(x̂)
//! ```
//!
//! `L` is the margin loss `Z_y − max_{j≠y} Z_j` untargeted and the cross-entropy of the target when targeted, as in
//! the authors' code. `p_i` follows their piecewise-constant schedule: `p_init` (`params.p_init`, default 0.8,
//! their MNIST setting) halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10 000 iterations, rescaled
//! to the budget. Stops at success or when `params.max_queries` queries (the clean evaluation included) are spent.
//! One query per iteration, sequential by nature. Only [`super::Norm::Linf`] is supported.

use rand_chacha::ChaCha8Rng;

use super::{norms, report, Attack, AttackKind, Context, Crafted, Goal, Norm, Progress};
use crate::error::Result;

/// Square Attack, L∞ (`"square"`).
pub struct Square;

/// The authors' `p_selection`: the fraction of pixels in the square at iteration `it` of `n_iters`.
pub fn p_selection(p_init: f32, it: usize, n_iters: usize) -> f32 {
    let it = (it as f64 / n_iters as f64 * 10_000.0) as usize;
    let div = match it {
        0..=10 => 1.0,
        11..=50 => 2.0,
        51..=200 => 4.0,
        201..=500 => 8.0,
        501..=1000 => 16.0,
        1001..=2000 => 32.0,
        2001..=4000 => 64.0,
        4001..=6000 => 128.0,
        6001..=8000 => 256.0,
        8001..=10_000 => 512.0,
        _ => 1.0,
    };
    p_init / div
}

/// `(loss, margin)`: the loss the search lowers and the margin that decides success.
fn loss(goal: Goal, z: &[f32]) -> (f32, f32) {
    let margin = goal.margin(z);
    match goal {
        Goal::Untargeted { .. } => (margin, margin),
        Goal::Targeted { target } => {
            let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let lse = m + z.iter().map(|&v| (v - m).exp()).sum::<f32>().ln();
            (lse - z[target], margin)
        }
    }
}

impl Attack for Square {
    fn name(&self) -> &'static str {
        "square"
    }
    fn kind(&self) -> AttackKind {
        AttackKind::Query
    }
    fn supported_norms(&self) -> &'static [Norm] {
        &[Norm::Linf]
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
        let [c, h, w] = ctx.shape();
        let x = ctx.x_flat();
        let eps = p.eta;
        let goal = ctx.goal;
        let mut queries = 1;
        let mut best = ctx.x.clone();
        if queries >= p.max_queries {
            return Ok(Crafted {
                adversarial: best,
                queries,
                steps: 0,
            });
        }
        // Vertical stripes.
        {
            let b = best.as_slice_mut().expect("standard layout");
            for ch in 0..c {
                for col in 0..w {
                    let s = if norms::below(rng, 2) == 0 { -eps } else { eps };
                    for row in 0..h {
                        let i = (ch * h + row) * w + col;
                        b[i] = (x[i] + s).clamp(0.0, 1.0);
                    }
                }
            }
        }
        let z = ctx.model.logits(best.view()).row(0).to_vec();
        queries += 1;
        let (mut loss_min, _) = loss(goal, &z);
        let mut success = goal.is_success_logits(&z);
        let n_iters = p.max_queries;
        let n_features = c * h * w;
        let mut cand = best.clone();
        let mut window_delta = vec![0.0f32; c];
        let mut steps = 0;
        while !success && queries < p.max_queries {
            if steps % 16 == 0 && steps > 0 {
                report(
                    progress,
                    Progress {
                        step: steps,
                        total: n_iters,
                        queries,
                        success,
                    },
                )?;
            }
            let frac = p_selection(p.p_init, steps, n_iters);
            steps += 1;
            let side = ((frac as f64 * n_features as f64 / c as f64).sqrt().round() as usize).clamp(1, h.max(2) - 1);
            let r0 = norms::below(rng, (h - side).max(1));
            let c0 = norms::below(rng, (w.saturating_sub(side)).max(1));
            let side_w = side.min(w);
            let b = best.as_slice().expect("standard layout");
            // Redraw the window's ±η until it differs from the current best there (bounded, as a safety net).
            for _ in 0..100 {
                for d in window_delta.iter_mut() {
                    *d = if norms::below(rng, 2) == 0 { -eps } else { eps };
                }
                let mut same = true;
                'check: for (ch, &d) in window_delta.iter().enumerate() {
                    for row in r0..r0 + side {
                        for col in c0..c0 + side_w {
                            let i = (ch * h + row) * w + col;
                            if ((x[i] + d).clamp(0.0, 1.0) - b[i]).abs() >= 1e-7 {
                                same = false;
                                break 'check;
                            }
                        }
                    }
                }
                if !same {
                    break;
                }
            }
            let cs = cand.as_slice_mut().expect("standard layout");
            cs.copy_from_slice(b);
            for (ch, &d) in window_delta.iter().enumerate() {
                for row in r0..r0 + side {
                    for col in c0..c0 + side_w {
                        let i = (ch * h + row) * w + col;
                        cs[i] = (x[i] + d).clamp(0.0, 1.0);
                    }
                }
            }
            let z = ctx.model.logits(cand.view());
            let z = z.row(0);
            let z = z.as_slice().expect("contiguous");
            queries += 1;
            let (l, _) = loss(goal, z);
            if l < loss_min {
                loss_min = l;
                std::mem::swap(&mut best, &mut cand);
                success = goal.is_success_logits(z);
            }
        }
        Ok(Crafted {
            adversarial: best,
            queries,
            steps,
        })
    }
}
