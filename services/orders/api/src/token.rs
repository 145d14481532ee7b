//! What another service keeps to recognise a guest's order token (`X-Order-Token`) without
//! asking orders: its SHA-256, never the token. Orders gives the hash out in `order.paid`'s
//! invoice block; a consumer compares a presented token against it in constant time. The
//! token is an HMAC of 256 bits, so a plain hash cannot be reversed or guessed back.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header a guest sends its order token in (`X-Order-Token`), lowercase as HTTP/2 has
/// it.
pub const HEADER: &str = "x-order-token";

/// The hash of `token` as carried in events and stored: lowercase hex of its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `token` is the one `stored` (a [`token_hash`]) was made from, compared in
/// constant time. An empty `stored` matches nothing.
pub fn token_matches(stored: &str, token: &str) -> bool {
    !stored.is_empty() && bool::from(token_hash(token).as_bytes().ct_eq(stored.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_own_hash_only() {
        let stored = token_hash("otk_0123");
        assert_eq!(stored.len(), 64);
        assert!(token_matches(&stored, "otk_0123"));
        assert!(!token_matches(&stored, "otk_0124"));
        assert!(!token_matches(&stored, ""));
        assert!(!token_matches("", ""));
        assert!(!token_matches(&stored, &stored));
    }
}
