//! The identity service's own integration tests: the mail outbox and its delivery job on a
//! real database (SQLite always, PostgreSQL when MERCATO_TEST_POSTGRES_URL is set). The
//! HTTP stories run end to end in the gateway's suite.

#[cfg(test)]
mod mail;
#[cfg(test)]
mod support;
