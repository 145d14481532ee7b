//! The tenants service's own integration tests: the router called with a signed context,
//! the domain-verification worker run by hand against DNS answers the test sets, on SQLite
//! and (when MERCATO_TEST_POSTGRES_URL is set) PostgreSQL. The stories through the gateway
//! (routing by `Host`, events reaching other services, tokens) run in the gateway's suite.

#[cfg(test)]
mod domains;
#[cfg(test)]
mod resolution;
#[cfg(test)]
mod settings;
#[cfg(test)]
mod shops;
#[cfg(test)]
mod support;
#[cfg(test)]
mod tenancy;
#[cfg(test)]
mod verification;
