//! The inventory service's own integration tests: the router called with a signed context,
//! catalog, vendor and order events fed to the consumers, the expiry job run by hand, on
//! SQLite and (when MERCATO_TEST_POSTGRES_URL is set) PostgreSQL. The stories through the
//! gateway run in the gateway's suite.

#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod expiry;
#[cfg(test)]
mod holidays;
#[cfg(test)]
mod orders;
#[cfg(test)]
mod reservations;
#[cfg(test)]
mod stock;
#[cfg(test)]
mod support;
#[cfg(test)]
mod warehouses;
