//! The storage test binary. The contract runs on the local backend always and on S3 when
//! `MERCATO_TEST_S3_ENDPOINT` (with `MERCATO_TEST_S3_ACCESS_KEY` and
//! `MERCATO_TEST_S3_SECRET_KEY`) names a server; every S3 test gets a bucket of its own,
//! emptied and removed afterwards, pass or fail. (The modules are `cfg(test)` so clippy
//! treats their helpers as test code too.)

#[cfg(test)]
mod contract;
#[cfg(test)]
mod media;
#[cfg(test)]
mod presigned;
#[cfg(test)]
mod setup;
#[cfg(test)]
mod support;
