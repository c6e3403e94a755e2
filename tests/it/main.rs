//! The integration tests: one binary, one module per topic. Everything runs against real servers
//! on 127.0.0.1, real sled files in temporary directories and, where a test says so, the real
//! `stagesync` binary.

mod checkpoints;
mod cli;
mod common;
mod component_relations;
mod converge;
mod daemon;
mod demo;
mod demo_schema;
mod emulator;
mod emulator_schema;
mod fastpath;
mod fields;
mod harness;
mod journal;
mod kill;
mod model;
mod relations;
mod required;
mod resilience;
mod richtext;
mod schema_classes;
mod served_schema;
mod stages;
mod store_damage;
mod sync;
mod systemd_real;
mod transport;
