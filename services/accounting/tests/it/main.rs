//! The accounting service's own tests: orders' events fed to its consumer, the ledger read
//! through its router with a signed context, on SQLite and (when MERCATO_TEST_POSTGRES_URL
//! is set) PostgreSQL. The story through the gateway runs in the gateway's suite.

#[cfg(test)]
mod expenses;
#[cfg(test)]
mod fees;
#[cfg(test)]
mod guards;
#[cfg(test)]
mod invoices;
#[cfg(test)]
mod postings;
#[cfg(test)]
mod reports;
#[cfg(test)]
mod support;
