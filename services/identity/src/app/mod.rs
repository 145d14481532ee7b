//! Use cases that handlers and workers share: signing in behind the back-off, and asking for
//! a password reset (the request, and the job that answers it).

pub mod password_reset;
pub mod sign_in;
