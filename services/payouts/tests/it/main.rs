//! The payouts service's own tests: orders' and vendors' events fed to its consumers and
//! runs carried out against a provider that can fail at the worst moment, on SQLite and
//! (when MERCATO_TEST_POSTGRES_URL is set) PostgreSQL. The story through the gateway (API,
//! access, the ledger) runs in the gateway's suite.

#[cfg(test)]
mod runs;
