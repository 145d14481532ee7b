//! The orders service's own integration tests: the router called with a signed context,
//! catalog, vendor, commission and stock events fed to its mirrors, and a local inventory
//! (speaking inventory's wire format) to reserve from, on SQLite and (when
//! MERCATO_TEST_POSTGRES_URL is set) PostgreSQL. The stories through the gateway run in the
//! gateway's suite.

#[cfg(test)]
mod carts;
#[cfg(test)]
mod checkout;
#[cfg(test)]
mod coupons;
#[cfg(test)]
mod inventory;
#[cfg(test)]
mod support;
#[cfg(test)]
mod tenancy;
#[cfg(test)]
mod whole_refunds;
