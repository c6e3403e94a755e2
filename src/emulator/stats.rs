//! Request counters of one emulator, for tests and benchmarks (`GET /__emulator/stats`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every request to the GraphQL or upload endpoint, rejected ones included.
    pub requests: u64,
    /// Executed requests holding a query operation.
    pub queries: u64,
    /// Executed requests holding a mutation operation.
    pub mutations: u64,
    /// Root mutation fields executed (aliased mutations count one each).
    pub mutation_fields: u64,
    /// Root mutation field name → count, e.g. `{"upsertTalk": 3}`.
    pub by_field: BTreeMap<String, u64>,
    /// 429 answers (rate or concurrency limit).
    pub rate_limited: u64,
    /// Injected faults by kind (`500`, `delay`, `drop-after`, ...).
    pub faults: BTreeMap<String, u64>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The largest request body of an executed query operation, and of a mutation (to check a
    /// client against Hygraph's query size limits).
    #[serde(default)]
    pub largest_query: u64,
    #[serde(default)]
    pub largest_mutation: u64,
    /// The largest GraphQL document (the `query` string alone, variables excluded) of a
    /// mutation: what Hygraph's query size limit measures.
    #[serde(default)]
    pub largest_mutation_document: u64,
    /// Requests refused before execution: 401, 403, 413, 400.
    pub rejected: u64,
    /// Legacy `POST <path>/upload` requests that created an asset.
    pub uploads: u64,
}
