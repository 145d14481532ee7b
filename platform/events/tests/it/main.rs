//! The events crate against real backends: SQLite always, PostgreSQL when
//! `MERCATO_TEST_POSTGRES_URL` is set, RabbitMQ when `MERCATO_TEST_AMQP_URL` is set.
//! (The modules are `cfg(test)` so clippy treats their helpers as test code too.)

#[cfg(test)]
mod amqp;
#[cfg(test)]
mod in_process;
#[cfg(test)]
mod inbox;
#[cfg(test)]
mod mirror;
#[cfg(test)]
mod outbox;
#[cfg(test)]
mod retention;
#[cfg(test)]
mod rls;
#[cfg(test)]
mod support;
