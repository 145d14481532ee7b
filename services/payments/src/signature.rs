//! Webhook signatures in Stripe's scheme, used for every provider's webhooks (the built-in
//! test provider signs its own the same way).
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`; each `v1` is the HMAC-SHA256 of
//! `"{t}.{raw body}"` keyed with one of the endpoint's secrets (the `whsec_…` string as it is,
//! not decoded). While a secret is being rolled the provider signs with every active secret,
//! one `v1` each, so a request is authentic when any `v1` matches any secret we hold. Other
//! schemes (`v0`, test-mode extras) are ignored. The timestamp is inside the signed payload,
//! so checking it against a tolerance is what stops a captured request being replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

/// The header Stripe sends the signature in.
pub const HEADER: &str = "Stripe-Signature";

/// Stripe's default tolerance: five minutes either way.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature header has no v1 signature")]
    NoSignature,
    #[error("no signature matches the body")]
    Mismatch,
    #[error("the signature timestamp is outside the tolerance")]
    OutsideTolerance,
    #[error("no webhook secret is configured")]
    NoSecrets,
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this never falls back; the fallback only keeps
    // signing infallible without an `expect`.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The full header value signing `body` at `timestamp` with `secret`: `t=…,v1=…`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

/// The parts of a header that matter: its timestamp and its `v1` signatures.
struct Parsed {
    timestamp: i64,
    /// Decoded `v1` values; ones that are not hex are kept as empty (they match nothing).
    signatures: Vec<Vec<u8>>,
}

fn parse(header: &str) -> Result<Parsed, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item.split_once('=').ok_or(SignatureError::Malformed)?;
        match key.trim() {
            "t" => {
                let t = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                if timestamp.replace(t).is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => signatures.push(hex::decode(value.trim()).unwrap_or_default()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    Ok(Parsed {
        timestamp,
        signatures,
    })
}

/// Checks the `header` sent with `body` against the endpoint's `secrets` and returns the
/// signed timestamp. Accepts when any `v1` matches any secret (compared in constant time,
/// every pair compared), and only then checks that the timestamp is within
/// `tolerance_secs` of `now` either way — so [`SignatureError::OutsideTolerance`] means an
/// authentic but stale (or future-dated) request.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[String],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecrets);
    }
    let parsed = parse(header)?;
    let mut matched = Choice::from(0);
    for secret in secrets {
        let expected = mac(secret, parsed.timestamp, body);
        for signature in &parsed.signatures {
            matched |= expected.as_slice().ct_eq(signature);
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    let tolerance = tolerance_secs.max(0);
    if now.saturating_sub(parsed.timestamp) > tolerance
        || parsed.timestamp.saturating_sub(now) > tolerance
    {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(parsed.timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_test_secret_0123456789";
    const OTHER: &str = "whsec_other_secret_9876543210";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn v1(secret: &str, timestamp: i64, body: &[u8]) -> String {
        hex::encode(mac(secret, timestamp, body))
    }

    #[test]
    fn accepts_a_valid_signature_and_returns_its_timestamp() {
        let header = sign(SECRET, NOW, BODY);
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(
            verify(&header, BODY, &secrets(&[SECRET]), NOW + 10, 300),
            Ok(NOW)
        );
    }

    #[test]
    fn matches_a_vector_computed_elsewhere() {
        // Python: hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
        assert_eq!(
            sign(SECRET, NOW, BODY),
            "t=1700000000,v1=0f06c232d18bc676bfacfc5240a2cfe4559e99421aacd50637b2ba2c7262e338"
        );
    }

    #[test]
    fn rejects_a_tampered_body() {
        let header = sign(SECRET, NOW, BODY);
        let tampered = br#"{"id":"evt_2","object":"event"}"#;
        assert_eq!(
            verify(&header, tampered, &secrets(&[SECRET]), NOW, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_a_wrong_secret() {
        let header = sign(OTHER, NOW, BODY);
        assert_eq!(
            verify(&header, BODY, &secrets(&[SECRET]), NOW, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_a_signature_over_another_timestamp() {
        let header = format!("t={},v1={}", NOW + 1, v1(SECRET, NOW, BODY));
        assert_eq!(
            verify(&header, BODY, &secrets(&[SECRET]), NOW, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn accepts_the_right_v1_wherever_it_is() {
        let good = v1(SECRET, NOW, BODY);
        let bad = v1(OTHER, NOW, BODY);
        for header in [
            format!("t={NOW},v1={good},v1={bad}"),
            format!("t={NOW},v1={bad},v1={good}"),
            format!("v1={bad},t={NOW},v1={good}"),
        ] {
            assert_eq!(
                verify(&header, BODY, &secrets(&[SECRET]), NOW, 300),
                Ok(NOW),
                "{header}"
            );
        }
    }

    #[test]
    fn accepts_any_of_several_secrets_during_rotation() {
        let old = sign(OTHER, NOW, BODY);
        let new = sign(SECRET, NOW, BODY);
        let both = secrets(&[SECRET, OTHER]);
        assert_eq!(verify(&old, BODY, &both, NOW, 300), Ok(NOW));
        assert_eq!(verify(&new, BODY, &both, NOW, 300), Ok(NOW));
        assert_eq!(
            verify(&old, BODY, &secrets(&["whsec_third"]), NOW, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_timestamps_outside_the_tolerance() {
        let header = sign(SECRET, NOW, BODY);
        let keys = secrets(&[SECRET]);
        assert_eq!(verify(&header, BODY, &keys, NOW + 300, 300), Ok(NOW));
        assert_eq!(verify(&header, BODY, &keys, NOW - 300, 300), Ok(NOW));
        assert_eq!(
            verify(&header, BODY, &keys, NOW + 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(&header, BODY, &keys, NOW - 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(&header, BODY, &keys, i64::MAX, 300),
            Err(SignatureError::OutsideTolerance)
        );
    }

    #[test]
    fn ignores_other_schemes() {
        let keys = secrets(&[SECRET]);
        let good = v1(SECRET, NOW, BODY);
        let header = format!("t={NOW},v0={good},v1={good},extra=x");
        assert_eq!(verify(&header, BODY, &keys, NOW, 300), Ok(NOW));
        let only_v0 = format!("t={NOW},v0={good}");
        assert_eq!(
            verify(&only_v0, BODY, &keys, NOW, 300),
            Err(SignatureError::NoSignature)
        );
    }

    #[test]
    fn rejects_garbage_headers() {
        let keys = secrets(&[SECRET]);
        let good = v1(SECRET, NOW, BODY);
        for (header, error) in [
            ("", SignatureError::Malformed),
            ("garbage", SignatureError::Malformed),
            ("t=,v1=00", SignatureError::Malformed),
            ("t=abc,v1=00", SignatureError::Malformed),
            (&format!("v1={good}"), SignatureError::Malformed),
            (
                &format!("t={NOW},t={NOW},v1={good}"),
                SignatureError::Malformed,
            ),
            (&format!("t={NOW},v1={good},"), SignatureError::Malformed),
            (&format!("t={NOW}"), SignatureError::NoSignature),
            (&format!("t={NOW},v1=zz"), SignatureError::Mismatch),
            (&format!("t={NOW},v1="), SignatureError::Mismatch),
            (
                &format!("t={NOW},v1={}", &good[..32]),
                SignatureError::Mismatch,
            ),
        ] {
            assert_eq!(
                verify(header, BODY, &keys, NOW, 300),
                Err(error),
                "{header:?}"
            );
        }
    }

    #[test]
    fn refuses_to_verify_without_secrets() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(
            verify(&header, BODY, &[], NOW, 300),
            Err(SignatureError::NoSecrets)
        );
    }

    proptest! {
        #[test]
        fn signing_round_trips_and_any_byte_change_breaks_it(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            timestamp in 0i64..4_000_000_000,
            position in any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let keys = secrets(&[SECRET]);
            let header = sign(SECRET, timestamp, &body);
            prop_assert_eq!(verify(&header, &body, &keys, timestamp, 300), Ok(timestamp));
            if !body.is_empty() {
                let mut changed = body.clone();
                let at = position.index(changed.len());
                changed[at] ^= flip;
                prop_assert_eq!(
                    verify(&header, &changed, &keys, timestamp, 300),
                    Err(SignatureError::Mismatch)
                );
            }
        }
    }
}
