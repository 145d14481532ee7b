//! The payments crate's integration tests: the built-in test provider over a real, migrated
//! database (SQLite, and PostgreSQL when MERCATO_TEST_POSTGRES_URL is set), its webhooks
//! delivered by the real job worker to a recording sink and read back with the same
//! signature check and parser a receiver uses; the Stripe adapter against a local server
//! speaking Stripe's wire format, and against localstripe when MERCATO_TEST_STRIPE_URL is set.

#[cfg(test)]
mod intents;
#[cfg(test)]
mod localstripe;
#[cfg(test)]
mod recorder;
#[cfg(test)]
mod refunds;
#[cfg(test)]
mod stripe;
#[cfg(test)]
mod support;
#[cfg(test)]
mod webhooks;
