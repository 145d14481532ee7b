//! Access tokens: HS256 JWTs with a `kid` header. The issuing key is the first configured
//! one; every configured key verifies, so a new key can be rolled out first and an old
//! one retired after the access-token lifetime has passed.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mercato_kernel::Secret;
use mercato_tenant_context::{Actor, AdminId, Role, Scope, TenantId, UserId, VendorMembership};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "mercato";

/// One configured key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no signing key is configured")]
    NoKeys,
    #[error("signing key {0:?} is shorter than 32 bytes")]
    WeakKey(String),
    #[error("the token names an unknown key")]
    UnknownKey,
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token's subject is not valid")]
    BadSubject,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// `usr_…` or `adm_…`.
    sub: String,
    /// `shop_…`, or `platform` for platform admins.
    ten: String,
    roles: Vec<Role>,
    /// Vendor memberships of shop users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ven: Vec<VendorMembership>,
    /// The account's session epoch at issue; tokens from before the claim existed read 0.
    #[serde(default)]
    sep: u64,
    iat: i64,
    exp: i64,
}

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub scope: Scope,
    pub actor: Actor,
    pub roles: Vec<Role>,
    pub vendors: Vec<VendorMembership>,
    /// The account's session epoch when the token was issued. Identity bumps the epoch when
    /// the account's rights shrink or its password changes; the gateway refuses a token
    /// whose epoch is older than the account's (ADR 0029).
    pub session_epoch: u64,
}

#[derive(Clone)]
pub struct TokenKeys {
    issuing_kid: String,
    encoding: EncodingKey,
    decoding: Vec<(String, DecodingKey)>,
    ttl_secs: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuing_kid", &self.issuing_kid)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(keys: &[SigningKey], ttl_secs: i64) -> Result<Self, TokenError> {
        let first = keys.first().ok_or(TokenError::NoKeys)?;
        if let Some(weak) = keys.iter().find(|k| k.secret.expose().len() < 32) {
            return Err(TokenError::WeakKey(weak.kid.clone()));
        }
        Ok(Self {
            issuing_kid: first.kid.clone(),
            encoding: EncodingKey::from_secret(first.secret.expose().as_bytes()),
            decoding: keys
                .iter()
                .map(|k| {
                    (
                        k.kid.clone(),
                        DecodingKey::from_secret(k.secret.expose().as_bytes()),
                    )
                })
                .collect(),
            ttl_secs,
        })
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn issue(&self, token: &AccessToken) -> Result<String, TokenError> {
        let sub = match token.actor {
            Actor::User(id) => id.to_string(),
            Actor::PlatformAdmin(id) => id.to_string(),
            Actor::Anonymous | Actor::ApiKey(_) | Actor::Service(_) => {
                return Err(TokenError::BadSubject);
            }
        };
        let ten = match token.scope {
            Scope::Shop(tenant) => tenant.to_string(),
            Scope::Platform => "platform".to_owned(),
        };
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub,
            ten,
            roles: token.roles.clone(),
            ven: token.vendors.clone(),
            sep: token.session_epoch,
            iat: now,
            exp: now + self.ttl_secs,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.issuing_kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Result<AccessToken, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let (_, key) = self
            .decoding
            .iter()
            .find(|(k, _)| *k == kid)
            .ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)?.claims;
        let scope = if claims.ten == "platform" {
            Scope::Platform
        } else {
            Scope::Shop(
                claims
                    .ten
                    .parse::<TenantId>()
                    .map_err(|_| TokenError::BadSubject)?,
            )
        };
        let actor = match scope {
            Scope::Platform => Actor::PlatformAdmin(
                claims
                    .sub
                    .parse::<AdminId>()
                    .map_err(|_| TokenError::BadSubject)?,
            ),
            Scope::Shop(_) => Actor::User(
                claims
                    .sub
                    .parse::<UserId>()
                    .map_err(|_| TokenError::BadSubject)?,
            ),
        };
        Ok(AccessToken {
            scope,
            actor,
            roles: claims.roles,
            vendors: claims.ven,
            session_epoch: claims.sep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, secret: &str) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            secret: Secret::new(secret),
        }
    }

    fn shop_token() -> AccessToken {
        AccessToken {
            scope: Scope::Shop(TenantId::new()),
            actor: Actor::User(UserId::new()),
            roles: vec![Role::Owner],
            vendors: Vec::new(),
            session_epoch: 7,
        }
    }

    #[test]
    fn old_keys_verify_until_retired() -> Result<(), TokenError> {
        let old = TokenKeys::new(&[key("k1", &"a".repeat(32))], 900)?;
        let token = shop_token();
        let jwt = old.issue(&token)?;

        let rotated = TokenKeys::new(
            &[key("k2", &"b".repeat(32)), key("k1", &"a".repeat(32))],
            900,
        )?;
        assert_eq!(rotated.verify(&jwt)?, token);
        assert_eq!(rotated.verify(&rotated.issue(&token)?)?, token);

        let retired = TokenKeys::new(&[key("k2", &"b".repeat(32))], 900)?;
        assert!(matches!(retired.verify(&jwt), Err(TokenError::UnknownKey)));
        Ok(())
    }

    #[test]
    fn tokens_carry_the_session_epoch_and_older_ones_read_zero() -> Result<(), TokenError> {
        let keys = TokenKeys::new(&[key("k1", &"a".repeat(32))], 900)?;
        let token = shop_token();
        assert_eq!(keys.verify(&keys.issue(&token)?)?.session_epoch, 7);
        // A token issued before the `sep` claim existed.
        let Scope::Shop(tenant) = token.scope else {
            unreachable!("a shop token")
        };
        let Actor::User(user) = token.actor else {
            unreachable!("a user token")
        };
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": ISSUER, "sub": user.to_string(), "ten": tenant.to_string(),
            "roles": ["owner"], "iat": now, "exp": now + 60,
        });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let old = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret("a".repeat(32).as_bytes()),
        )?;
        assert_eq!(keys.verify(&old)?.session_epoch, 0);
        Ok(())
    }

    #[test]
    fn rejects_expired_and_forged_tokens() -> Result<(), TokenError> {
        let keys = TokenKeys::new(&[key("k1", &"a".repeat(32))], -60)?;
        assert!(matches!(
            keys.verify(&keys.issue(&shop_token())?),
            Err(TokenError::Invalid(_))
        ));

        let forger = TokenKeys::new(&[key("k1", &"f".repeat(32))], 900)?;
        let keys = TokenKeys::new(&[key("k1", &"a".repeat(32))], 900)?;
        assert!(keys.verify(&forger.issue(&shop_token())?).is_err());
        assert!(keys.verify("not.a.jwt").is_err());
        assert!(matches!(
            TokenKeys::new(&[key("k1", "short")], 900),
            Err(TokenError::WeakKey(_))
        ));
        Ok(())
    }
}
