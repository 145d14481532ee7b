//! The identity service's own integration tests on a real database (SQLite always,
//! PostgreSQL when MERCATO_TEST_POSTGRES_URL is set): the mail outbox and its delivery job,
//! sign-in back-off and the bound on password hashing, and password-reset requests, the last
//! two through the service's router with a signed context. The stories across services run
//! end to end in the gateway's suite.

#[cfg(test)]
mod mail;
#[cfg(test)]
mod password_reset;
#[cfg(test)]
mod sign_in;
#[cfg(test)]
mod support;
