//! The vendors service's own integration tests: the router called with a signed context, as
//! the gateway would call it, on SQLite and (when MERCATO_TEST_POSTGRES_URL is set)
//! PostgreSQL. The stories through the gateway run in the gateway's suite.

#[cfg(test)]
mod commission;
#[cfg(test)]
mod shipping;
#[cfg(test)]
mod storage_quota;
#[cfg(test)]
mod support;
