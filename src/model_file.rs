//! Weight files. STUB: being implemented.
