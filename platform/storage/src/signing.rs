//! Gateway-signed download links for the local backend:
//! `/media/<key>?expires=<unix seconds>&sig=<hex hmac-sha256>`.
//!
//! The MAC covers a version tag, the key exactly as it appears in the path, and the expiry,
//! so neither can be changed without the secret. Whoever holds a link may fetch that one
//! object until it expires; that is the point of a link (an `<img src>`, a report e-mailed
//! to a merchant), which is why links are short-lived and the response is `private`.

use crate::key::ObjectKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The path every signed link starts with; [`crate::media_router`] serves it.
pub const MEDIA_PATH: &str = "/media/";
/// Shortest accepted signing secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
const DOMAIN: &[u8] = b"mercato-media-v1\n";

/// Why a signed link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the download link's signature is not valid")]
    BadSignature,
    #[error("the download link has expired")]
    Expired,
}

/// Signs and verifies download links with a secret only the platform knows.
#[derive(Clone)]
pub struct MediaSigner(Arc<[u8]>);

impl std::fmt::Debug for MediaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaSigner(***)")
    }
}

impl MediaSigner {
    /// `None` when `secret` is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Option<Self> {
        (secret.len() >= MIN_SECRET_LEN).then(|| Self(secret.into()))
    }

    fn mac(&self, key: &str, expires: i64) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this never falls back; the fallback only keeps
        // the signature infallible without an `expect`.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        mac.update(DOMAIN);
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The hex signature of `key` valid until `expires` (unix seconds).
    pub fn sign(&self, key: &ObjectKey, expires: i64) -> String {
        hex::encode(self.mac(key.as_str(), expires).finalize().into_bytes())
    }

    /// The path-and-query link to `key`, valid until `expires` (unix seconds).
    pub fn download_url(&self, key: &ObjectKey, expires: i64) -> String {
        format!(
            "{MEDIA_PATH}{key}?expires={expires}&sig={}",
            self.sign(key, expires)
        )
    }

    /// Checks a link's signature (in constant time) and then its expiry against `now`
    /// (unix seconds). `key` is the key text as it arrived in the path. A link is valid up
    /// to and including the second it names.
    pub fn verify_download(
        &self,
        key: &str,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let given = hex::decode(sig).map_err(|_| SignatureError::BadSignature)?;
        let expected = self.mac(key, expires).finalize().into_bytes();
        if !bool::from(expected[..].ct_eq(&given)) {
            return Err(SignatureError::BadSignature);
        }
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Owner;
    use mercato_tenant_context::TenantId;

    const NOW: i64 = 1_800_000_000;

    fn signer() -> MediaSigner {
        MediaSigner::new(&[7; 32]).unwrap()
    }

    fn key() -> ObjectKey {
        ObjectKey::new(TenantId::new(), Owner::Shop, "reports", "r.pdf").unwrap()
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(MediaSigner::new(&[1; MIN_SECRET_LEN - 1]).is_none());
        assert!(MediaSigner::new(b"").is_none());
        assert_eq!(format!("{:?}", signer()), "MediaSigner(***)");
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let (signer, key) = (signer(), key());
        let sig = signer.sign(&key, NOW + 60);
        assert_eq!(sig.len(), 64);
        assert_eq!(
            signer.download_url(&key, NOW + 60),
            format!("/media/{key}?expires={}&sig={sig}", NOW + 60)
        );
        assert_eq!(
            signer.verify_download(key.as_str(), NOW + 60, &sig, NOW),
            Ok(())
        );
        assert_eq!(
            signer.verify_download(key.as_str(), NOW + 60, &sig, NOW + 60),
            Ok(())
        );
        assert_eq!(
            signer.verify_download(key.as_str(), NOW + 60, &sig, NOW + 61),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn changing_any_part_breaks_the_signature() {
        let (signer, key) = (signer(), key());
        let sig = signer.sign(&key, NOW + 60);
        let other_key = key.as_str().replace("r.pdf", "s.pdf");
        let mut flipped = sig.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        let other_secret = MediaSigner::new(&[8; 32]).unwrap();
        let cases = [
            signer.verify_download(&other_key, NOW + 60, &sig, NOW),
            signer.verify_download(key.as_str(), NOW + 3600, &sig, NOW),
            signer.verify_download(key.as_str(), NOW + 60, &flipped, NOW),
            signer.verify_download(key.as_str(), NOW + 60, &sig[..62], NOW),
            signer.verify_download(key.as_str(), NOW + 60, "", NOW),
            signer.verify_download(key.as_str(), NOW + 60, "not hex", NOW),
            other_secret.verify_download(key.as_str(), NOW + 60, &sig, NOW),
        ];
        for (i, result) in cases.into_iter().enumerate() {
            assert_eq!(result, Err(SignatureError::BadSignature), "case {i}");
        }
        assert_eq!(
            signer.verify_download(key.as_str(), NOW - 1, &signer.sign(&key, NOW - 1), NOW),
            Err(SignatureError::Expired),
            "a genuine but old link is expired, not forged"
        );
        assert_eq!(
            signer.verify_download(key.as_str(), NOW + 60, &sig.to_uppercase(), NOW),
            Ok(()),
            "hex case does not matter"
        );
    }
}
