//! The demo (`stagesync demo`) and what it stands on: a reproducible project generator and a
//! file server for asset bytes. Also used by the benchmark and the tests.

pub mod files;
pub mod project;
pub mod tour;
