//! Fixed-chunk parallel map: rayon natively, a plain loop on wasm32. Results come back in chunk order, so a
//! reduction over them in that order is bit-identical whatever the number of threads or their timing.

use std::ops::Range;

/// `f` applied to `0..n` cut into consecutive ranges of `chunk` (the last one shorter), results in order.
pub(crate) fn map_chunks<T, F>(n: usize, chunk: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync + Send,
{
    let ranges: Vec<Range<usize>> = (0..n).step_by(chunk.max(1)).map(|s| s..(s + chunk).min(n)).collect();
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if ranges.len() > 1 {
            return ranges.into_par_iter().map(f).collect();
        }
    }
    ranges.into_iter().map(f).collect()
}
