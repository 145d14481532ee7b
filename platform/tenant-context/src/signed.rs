//! The signed context header: `base64url(json) "." base64url(hmac_sha256(json))`, with a
//! short expiry so a captured header cannot be replayed for long.

use crate::RequestContext;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a signed context stays valid after the gateway signs it.
const LIFETIME_SECS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("the context signing key is not installed on this router")]
    NoKey,
    #[error("malformed context header")]
    Malformed,
    #[error("bad context signature")]
    BadSignature,
    #[error("context expired")]
    Expired,
}

/// The internal key shared by the gateway and the services.
#[derive(Clone)]
pub struct ContextKey(std::sync::Arc<[u8]>);

impl std::fmt::Debug for ContextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContextKey(***)")
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(flatten)]
    context: RequestContext,
    exp: i64,
}

impl ContextKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable_mac())
    }

    pub fn sign(&self, context: &RequestContext) -> String {
        let envelope = Envelope {
            context: context.clone(),
            exp: chrono::Utc::now().timestamp() + LIFETIME_SECS,
        };
        let payload = serde_json::to_vec(&envelope).unwrap_or_default();
        let mut mac = self.mac();
        mac.update(&payload);
        format!(
            "{}.{}",
            B64.encode(&payload),
            B64.encode(mac.finalize().into_bytes())
        )
    }

    pub fn verify(&self, header: &[u8]) -> Result<RequestContext, ContextError> {
        let text = std::str::from_utf8(header).map_err(|_| ContextError::Malformed)?;
        let (payload, signature) = text.split_once('.').ok_or(ContextError::Malformed)?;
        let payload = B64.decode(payload).map_err(|_| ContextError::Malformed)?;
        let signature = B64.decode(signature).map_err(|_| ContextError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature)
            .map_err(|_| ContextError::BadSignature)?;
        let envelope: Envelope =
            serde_json::from_slice(&payload).map_err(|_| ContextError::Malformed)?;
        if envelope.exp < chrono::Utc::now().timestamp() {
            return Err(ContextError::Expired);
        }
        Ok(envelope.context)
    }
}

#[allow(clippy::panic)]
fn unreachable_mac() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, RequestId, Role, Scope, TenantId, UserId};

    fn context() -> RequestContext {
        RequestContext {
            scope: Scope::Shop(TenantId::new()),
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
            request_id: RequestId::new(),
            terms: None,
            client_ip: None,
        }
    }

    #[test]
    fn verifies_what_it_signed() -> Result<(), ContextError> {
        let key = ContextKey::new(b"internal-key");
        let ctx = context();
        assert_eq!(key.verify(key.sign(&ctx).as_bytes())?, ctx);
        Ok(())
    }

    #[test]
    fn rejects_other_keys_and_tampering() {
        let key = ContextKey::new(b"internal-key");
        let header = key.sign(&context());
        assert!(matches!(
            ContextKey::new(b"other").verify(header.as_bytes()),
            Err(ContextError::BadSignature)
        ));

        // Swap in another tenant's payload while keeping the signature.
        let (_, signature) = header.split_once('.').unwrap_or_default();
        let forged = serde_json::to_vec(&Envelope {
            context: context(),
            exp: i64::MAX,
        })
        .unwrap_or_default();
        let forged = format!("{}.{}", B64.encode(forged), signature);
        assert!(matches!(
            key.verify(forged.as_bytes()),
            Err(ContextError::BadSignature)
        ));
        assert!(matches!(
            key.verify(b"garbage"),
            Err(ContextError::Malformed)
        ));
    }
}
