//! Adversarial attacks. STUB: being implemented.
