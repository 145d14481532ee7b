//! The search test binary: the embedded engine's behaviour (full text with typos, facets,
//! filters, sorting, suggestions, writes and their visibility, tenant isolation) on real
//! in-memory and on-disk indexes, and the Meilisearch backend's requests against a fake
//! server that records them (no Meilisearch server can run here). (The modules are
//! `cfg(test)` so clippy treats their helpers as test code too.)

#[cfg(test)]
mod facets;
#[cfg(test)]
mod meilisearch;
#[cfg(test)]
mod search;
#[cfg(test)]
mod suggest;
#[cfg(test)]
mod support;
#[cfg(test)]
mod tenancy;
#[cfg(test)]
mod writes;
