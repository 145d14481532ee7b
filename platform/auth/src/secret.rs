//! Opaque secrets handed to clients once and kept only as a digest. They carry 256 random
//! bits, so a fast hash is enough (unlike passwords, they cannot be guessed).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated secret: the text for the client and the digest to store.
#[derive(Debug, Clone)]
pub struct OpaqueSecret {
    pub text: String,
    pub digest: String,
}

impl OpaqueSecret {
    /// `prefix` tells a human what the secret is (`mrt_` refresh token, `mk_` API key).
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let text = format!("{prefix}{}", B64.encode(bytes));
        let digest = digest(&text);
        Self { text, digest }
    }
}

/// The hex SHA-256 of a secret, as stored.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_and_secrets_differ() {
        let a = OpaqueSecret::generate("mrt_");
        let b = OpaqueSecret::generate("mrt_");
        assert!(a.text.starts_with("mrt_"));
        assert_eq!(digest(&a.text), a.digest);
        assert_ne!(a.text, b.text);
        assert_eq!(a.digest.len(), 64);
    }
}
