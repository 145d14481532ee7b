//! The catalog service's own integration tests: the router called with a signed context (as
//! the gateway calls it), vendor events fed to its mirror, and its outbox relayed through an
//! in-process bus to its own consumers (the search indexer), on SQLite and (when
//! MERCATO_TEST_POSTGRES_URL is set) PostgreSQL. The stories through the gateway run in the
//! gateway's suite.

#[cfg(test)]
mod holidays;
#[cfg(test)]
mod review;
#[cfg(test)]
mod storage_quota;
#[cfg(test)]
mod support;
