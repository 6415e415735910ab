//! Cross-crate tests (`tests/`) and benchmarks (`benches/`) of the credkit workspace.
//! Unpublished.

/// The root README's example, compiled as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
mod readme {}
