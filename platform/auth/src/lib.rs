//! Credentials: argon2id password hashes, short-lived JWT access tokens signed with a key
//! id (so keys rotate: old ones keep verifying until retired), and opaque random secrets
//! (refresh tokens, API keys, one-time tokens) stored only as SHA-256 digests.

mod jwt;
mod password;
mod secret;

pub use jwt::{AccessToken, SigningKey, TokenError, TokenKeys};
pub use password::{PasswordError, hash_password, verify_password};
pub use secret::{OpaqueSecret, digest};
