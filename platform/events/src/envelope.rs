//! The event envelope: what every event on the bus looks like, whatever its payload.

use chrono::{DateTime, SubsecRound, Utc};
use mercato_tenant_context::TenantId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mercato_kernel::typed_id!(
    /// One event occurrence; consumers deduplicate on it.
    pub EventId, "evt"
);

/// What travels on the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: EventId,
    /// `noun.verb` in the past tense, e.g. `shop.created`; also the routing key.
    pub name: String,
    /// The payload's schema version, so consumers can accept old and new shapes.
    pub version: u32,
    pub tenant_id: TenantId,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

impl Envelope {
    pub fn new(
        name: &str,
        version: u32,
        tenant_id: TenantId,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: EventId::new(),
            name: name.to_owned(),
            version,
            tenant_id,
            // PostgreSQL keeps microseconds: truncating here makes the envelope a consumer
            // receives equal to the one the producer built.
            occurred_at: Utc::now().trunc_subsecs(6),
            payload: serde_json::to_value(payload)?,
        })
    }

    /// The payload as the consumer's type for this event.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}

/// Why `name` cannot be an event name: it is a routing key, so it must be dot-separated
/// words of `[a-z0-9_-]` (no pattern wildcards) and fit an AMQP short string.
pub(crate) fn invalid_name_reason(name: &str) -> Option<&'static str> {
    if name.len() > 200 {
        return Some("longer than 200 bytes");
    }
    let word_ok = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if !name.split('.').all(word_ok) {
        return Some("use dot-separated words of lowercase letters, digits, '_' and '-'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let event = Envelope::new(
            "shop.created",
            1,
            TenantId::new(),
            &serde_json::json!({"slug": "acme"}),
        )
        .unwrap();
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains("\"evt_"), "{text}");
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), event);
    }

    #[test]
    fn accepts_routing_key_names_only() {
        assert_eq!(invalid_name_reason("shop.created"), None);
        assert_eq!(invalid_name_reason("domain.verification_failed"), None);
        for bad in [
            "",
            "shop.",
            ".shop",
            "shop.*",
            "shop.#",
            "Shop.created",
            "shop created",
            &"a".repeat(201),
        ] {
            assert!(invalid_name_reason(bad).is_some(), "{bad:?}");
        }
    }
}
