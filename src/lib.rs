//! stagesync keeps a destination Hygraph environment in step with a source one: every entry of
//! every model, localizations, relations, assets and publication state, writing only what
//! changed since the last acknowledged write.
//!
//! Data flows `model → hygraph → sync → store`, with `daemon` driving runs on a schedule and
//! `emulator` standing in for Hygraph in tests, benchmarks and the demo.

pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod hygraph;
pub mod logging;
pub mod model;
pub mod render;
pub mod store;
pub mod sync;

#[cfg(feature = "emulator")]
pub mod demo;
#[cfg(feature = "emulator")]
pub mod emulator;
