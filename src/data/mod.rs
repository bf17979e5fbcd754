//! Datasets and preprocessing. STUB: being implemented.
