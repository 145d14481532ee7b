//! The onboarding checklist a shop asks of its vendors. Each shop configures its items; a
//! shop that has not uses [`default_items`]. A vendor cannot submit for review while a
//! required item is neither completed nor overridden by the merchant.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A value the vendor types (tax id, business details).
    Text,
    /// A statement the vendor accepts (terms).
    Confirmation,
    /// A file the vendor uploads (registration extract, ID).
    Document,
    /// Completed by saving a payout account.
    PayoutAccount,
}

impl ItemKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Confirmation => "confirmation",
            Self::Document => "document",
            Self::PayoutAccount => "payout_account",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "text" => Self::Text,
            "confirmation" => Self::Confirmation,
            "document" => Self::Document,
            "payout_account" => Self::PayoutAccount,
            _ => return None,
        })
    }
}

/// One item of a shop's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Stable identifier, e.g. `tax_id`.
    pub code: String,
    pub label: String,
    pub kind: ItemKind,
    pub required: bool,
}

/// What a shop asks when it has configured nothing.
pub fn default_items() -> Vec<ChecklistItem> {
    let item = |code: &str, label: &str, kind| ChecklistItem {
        code: code.into(),
        label: label.into(),
        kind,
        required: true,
    };
    vec![
        item(
            "business_details",
            "Business registration details",
            ItemKind::Text,
        ),
        item("tax_id", "Tax or VAT identification number", ItemKind::Text),
        item("payout_account", "Payout account", ItemKind::PayoutAccount),
        item(
            "terms_accepted",
            "Marketplace terms accepted",
            ItemKind::Confirmation,
        ),
        item(
            "registration_document",
            "Company registration document",
            ItemKind::Document,
        ),
    ]
}

/// Where a vendor stands on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Missing,
    Completed,
    /// The merchant waived or accepted it by hand; recorded with who and why.
    Overridden,
}

impl ItemState {
    pub fn is_satisfied(self) -> bool {
        !matches!(self, Self::Missing)
    }
}

pub fn check_code(code: &str) -> Result<(), &'static str> {
    let ok = code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if (2..=40).contains(&code.len()) && ok && !code.starts_with('_') {
        Ok(())
    } else {
        Err("2-40 lowercase letters, digits or underscores")
    }
}

/// Checks a whole checklist: valid codes, labels, no duplicates, at most 30 items.
pub fn check_items(items: &[ChecklistItem]) -> Result<(), mercato_kernel::Problem> {
    let mut checks = mercato_kernel::Checks::default();
    if items.len() > 30 {
        checks.push("/items", "at most 30 items");
    }
    for (i, item) in items.iter().enumerate() {
        checks.field(&format!("/items/{i}/code"), check_code(&item.code));
        checks.field(
            &format!("/items/{i}/label"),
            super::vendor::check_name(&item.label, 120),
        );
        if items[..i].iter().any(|other| other.code == item.code) {
            checks.push(&format!("/items/{i}/code"), "appears twice");
        }
    }
    checks.finish()
}

/// The required items still missing, given each item's state.
pub fn missing_required(
    items: &[ChecklistItem],
    state_of: impl Fn(&str) -> ItemState,
) -> Vec<&str> {
    items
        .iter()
        .filter(|item| item.required && !state_of(&item.code).is_satisfied())
        .map(|item| item.code.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_items_block_until_done_or_overridden() {
        let items = default_items();
        let missing = missing_required(&items, |code| match code {
            "tax_id" => ItemState::Completed,
            "registration_document" => ItemState::Overridden,
            _ => ItemState::Missing,
        });
        assert_eq!(
            missing,
            vec!["business_details", "payout_account", "terms_accepted"]
        );
        assert!(missing_required(&items, |_| ItemState::Completed).is_empty());
    }

    #[test]
    fn checklists_are_checked_whole() {
        let mut items = default_items();
        assert!(check_items(&items).is_ok());
        items.push(items[0].clone());
        items.push(ChecklistItem {
            code: "Bad Code".into(),
            label: String::new(),
            kind: ItemKind::Text,
            required: false,
        });
        let problem = check_items(&items).err().map(|p| p.body());
        let fields: Vec<String> = problem
            .map(|b| b.errors.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(
            fields,
            vec!["/items/5/code", "/items/6/code", "/items/6/label"]
        );
    }
}
