//! The payments crate's integration tests: the built-in test provider over a real, migrated
//! database (SQLite, and PostgreSQL when MERCATO_TEST_POSTGRES_URL is set), its webhooks
//! delivered by the real job worker to a recording sink and read back with the same
//! signature check and parser a receiver uses.

#[cfg(test)]
mod intents;
#[cfg(test)]
mod refunds;
#[cfg(test)]
mod support;
#[cfg(test)]
mod webhooks;
