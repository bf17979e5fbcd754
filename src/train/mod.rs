//! Training. STUB: being implemented.
