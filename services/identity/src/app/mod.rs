//! Use cases that handlers and workers share: signing in behind the back-off, asking for
//! a password reset (the request, and the job that answers it), and ending an account's
//! sessions when its rights shrink.

pub mod password_reset;
pub mod sessions;
pub mod sign_in;
