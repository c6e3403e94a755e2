//! An in-memory Hygraph Content API emulator for tests, benchmarks and the demo.
