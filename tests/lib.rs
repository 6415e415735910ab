//! Cross-crate tests live in `tests/`; benchmarks in `benches/`.
