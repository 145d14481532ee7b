//! Warehouses: a vendor's stock locations, each with a name (unique per vendor) and an
//! address. An inactive warehouse keeps its stock and history but takes no new reservations.

use super::WarehouseId;
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    pub id: WarehouseId,
    pub vendor: VendorId,
    pub name: String,
    pub address: Address,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Where a warehouse is (where shipments leave from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WarehouseAddress)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// State, province or county, where addresses have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

/// A name or address part: trimmed, 1 to `max` characters, no control characters.
pub fn check_text(text: &str, max: usize) -> Result<(), &'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err("must not be blank")
    } else if trimmed.chars().count() > max {
        Err("too long")
    } else if trimmed.chars().any(char::is_control) {
        Err("must not contain control characters")
    } else {
        Ok(())
    }
}

pub fn check_country(code: &str) -> Result<(), &'static str> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("an ISO 3166-1 alpha-2 code in capitals, e.g. DE")
    }
}

impl Address {
    /// Every invalid part, by field path under `prefix` (`/address`).
    pub fn problems(&self, prefix: &str) -> Vec<(String, &'static str)> {
        let mut bad = Vec::new();
        for (field, value, max) in [
            ("line1", Some(&self.line1), 200),
            ("line2", self.line2.as_ref(), 200),
            ("postal_code", Some(&self.postal_code), 20),
            ("city", Some(&self.city), 120),
            ("region", self.region.as_ref(), 120),
        ] {
            if let Some(value) = value
                && let Err(message) = check_text(value, max)
            {
                bad.push((format!("{prefix}/{field}"), message));
            }
        }
        if let Err(message) = check_country(&self.country) {
            bad.push((format!("{prefix}/country"), message));
        }
        bad
    }

    /// The same address with every part trimmed.
    pub fn trimmed(self) -> Self {
        let trim = |s: String| s.trim().to_owned();
        Self {
            line1: trim(self.line1),
            line2: self.line2.map(trim).filter(|s| !s.is_empty()),
            postal_code: trim(self.postal_code),
            city: trim(self.city),
            region: self.region.map(trim).filter(|s| !s.is_empty()),
            country: self.country,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            line1: "Speicherstadt 1".into(),
            line2: None,
            postal_code: "20457".into(),
            city: "Hamburg".into(),
            region: None,
            country: "DE".into(),
        }
    }

    #[test]
    fn a_good_address_passes() {
        assert!(address().problems("/address").is_empty());
    }

    #[test]
    fn every_bad_part_is_named() {
        let bad = Address {
            line1: " ".into(),
            line2: Some("x".repeat(201)),
            postal_code: "1".into(),
            city: "Ham\u{0}burg".into(),
            region: None,
            country: "de".into(),
        };
        let fields: Vec<String> = bad.problems("/address").into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "/address/line1",
                "/address/line2",
                "/address/city",
                "/address/country"
            ]
        );
    }

    #[test]
    fn trimming_drops_blank_optional_parts() {
        let a = Address {
            line1: "  Kai 3 ".into(),
            line2: Some("  ".into()),
            ..address()
        }
        .trimmed();
        assert_eq!(a.line1, "Kai 3");
        assert_eq!(a.line2, None);
    }
}
