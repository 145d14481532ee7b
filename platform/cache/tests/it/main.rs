//! The cache test binary: every test runs on the in-memory backend and, when
//! `MERCATO_TEST_REDIS_URL` is set, on Redis in namespaces of its own that are emptied
//! afterwards, pass or fail. (The modules are `cfg(test)` so clippy treats their helpers as
//! test code too.)

#[cfg(test)]
mod contract;
#[cfg(test)]
mod support;
