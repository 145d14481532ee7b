//! The jobs test binary: every test runs on SQLite and, when `MERCATO_TEST_POSTGRES_URL` is
//! set, on PostgreSQL in a schema of its own. (The modules are `cfg(test)` so clippy treats
//! their helpers as test code too.)

#[cfg(test)]
mod support;

#[cfg(test)]
mod batches;
#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod lifecycle;
#[cfg(test)]
mod recovery;
#[cfg(test)]
mod retention;
#[cfg(test)]
mod retry;
