//! A product a vendor lists, and its life: `draft` → (publish) → `active`, or through
//! `pending_review` when the shop moderates listings; the merchant approves or rejects
//! (with a reason the vendor sees); `archived` takes it off sale and `restore` brings it
//! back as a draft.
//!
//! In a shop that moderates listings the merchant's approval covers what they saw: when the
//! vendor's staff later change anything shoppers see of an active product ([`Edit::Shown`]),
//! it goes back to `pending_review`, hidden until approved again (see [`Product::after_edit`]
//! and ADR 0026).

use crate::problems::CatalogProblem;
use mercato_kernel::{Currency, Problem};
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use serde::{Deserialize, Serialize};

// The status is the contract's: `product.changed` carries it.
pub use mercato_catalog_api::ProductStatus;

/// Who moves a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Merchant staff with `catalog:manage`: their word is the approval.
    Merchant,
    /// The vendor's staff.
    Vendor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductAction {
    /// Put on sale: `active`, or `pending_review` when the shop moderates vendors' listings.
    Publish,
    /// Merchant: a listing under review may go on sale.
    Approve,
    /// Merchant: turn down a listing under review, or take an active one down (reason required).
    Reject,
    /// Take off sale and keep.
    Archive,
    /// An archived product becomes a draft again.
    Restore,
}

impl ProductAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Archive => "archive",
            Self::Restore => "restore",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "publish" => Self::Publish,
            "approve" => Self::Approve,
            "reject" => Self::Reject,
            "archive" => Self::Archive,
            "restore" => Self::Restore,
            _ => return None,
        })
    }

    /// Moderation is the merchant's.
    pub fn merchant_only(self) -> bool {
        matches!(self, Self::Approve | Self::Reject)
    }

    pub fn needs_reason(self) -> bool {
        self == Self::Reject
    }

    /// Where the action leads from `from`, or `None` where it does not apply.
    pub fn target(
        self,
        from: ProductStatus,
        side: Side,
        require_approval: bool,
    ) -> Option<ProductStatus> {
        use ProductStatus::*;
        match (self, from) {
            (Self::Publish, Draft | Rejected) => {
                if require_approval && side == Side::Vendor {
                    Some(PendingReview)
                } else {
                    Some(Active)
                }
            }
            (Self::Approve, PendingReview) if side == Side::Merchant => Some(Active),
            (Self::Reject, PendingReview | Active) if side == Side::Merchant => Some(Rejected),
            (Self::Archive, Draft | PendingReview | Active | Rejected) => Some(Archived),
            (Self::Restore, Archived) => Some(Draft),
            _ => None,
        }
    }
}

/// What a change to a listing did to what shoppers see of it. Only [`Edit::Shown`] can send
/// an approved product back to review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Something shoppers see was added or altered: a text, the slug, the category, tags,
    /// option types, attribute values, SEO fields, a variant's SKU, title, options, prices,
    /// weight or size, a new variant, a new image.
    Shown,
    /// Nothing shoppers have not seen already: no change at all, the barcode (never shown),
    /// a variant or an image taken away, the images put in another order.
    Unseen,
}

impl Edit {
    pub fn shown_if(shown: bool) -> Self {
        if shown { Self::Shown } else { Self::Unseen }
    }
}

/// SEO fields; each falls back to the product's own (title, description, slug) when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Seo {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The slug search engines should treat as the page's own (e.g. of a duplicate listing).
    #[serde(default)]
    pub canonical_slug: Option<String>,
}

/// A product of one vendor in one shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub vendor: VendorId,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    /// Why the merchant rejected it; shown to the vendor.
    pub status_reason: Option<String>,
    pub category: Option<CategoryId>,
    pub tags: Vec<String>,
    /// The names variants choose a value for (`size`, `colour`), in order.
    pub option_types: Vec<String>,
    pub seo: Seo,
    /// The currency all its variants share, once it has one.
    pub currency: Option<Currency>,
    /// The lowest variant price (sorting by price); 0 with no variants.
    pub min_price: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Product {
    /// Checks that `action` by `side` applies now, returning the new status.
    pub fn plan(
        &self,
        action: ProductAction,
        side: Side,
        require_approval: bool,
    ) -> Result<ProductStatus, Problem> {
        action
            .target(self.status, side, require_approval)
            .ok_or_else(|| {
                Problem::of(
                    CatalogProblem::InvalidTransition,
                    format!(
                        "a product in state `{}` cannot be `{}`ed here",
                        self.status.code(),
                        action.code()
                    ),
                )
            })
    }

    /// Checks that the product is still as the caller last saw it (`seen`: its `updated_at`
    /// then). A reviewer approves what they saw, not what the vendor put there since: every
    /// change to what shoppers see touches `updated_at`.
    pub fn check_seen(&self, seen: Option<chrono::DateTime<chrono::Utc>>) -> Result<(), Problem> {
        match seen {
            Some(seen) if seen != self.updated_at => Err(Problem::of(
                CatalogProblem::ProductChanged,
                format!(
                    "the product changed since you saw it (now updated at {}); look at it again",
                    self.updated_at.to_rfc3339()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether `other` shows shoppers something this product does not. Status, prices (see
    /// the variants) and times aside, every field of a product is on its page.
    pub fn shown_differs(&self, other: &Product) -> bool {
        self.slug != other.slug
            || self.title != other.title
            || self.description != other.description
            || self.category != other.category
            || self.tags != other.tags
            || self.option_types != other.option_types
            || self.seo != other.seo
    }

    /// Applies `edit` by `side` to the status, in a shop that moderates listings
    /// (`require_approval`) or not; returns whether the product went back to review.
    ///
    /// The merchant approved what they saw. When the vendor's staff change what shoppers
    /// see of an active product, it waits for the merchant again, hidden meanwhile: keeping
    /// the approved version on sale would need a second copy of the product, its variants
    /// and images, served and mirrored in its place (ADR 0026). Merchant staff are the
    /// moderators, so their own edits stand; a product not on sale is reviewed when it is
    /// published (again), so its status stays.
    pub fn after_edit(&mut self, edit: Edit, side: Side, require_approval: bool) -> bool {
        let back_to_review = edit == Edit::Shown
            && side == Side::Vendor
            && require_approval
            && self.status == ProductStatus::Active;
        if back_to_review {
            self.status = ProductStatus::PendingReview;
            self.status_reason = None;
        }
        back_to_review
    }
}

pub const MAX_TAGS: usize = 30;
pub const MAX_OPTION_TYPES: usize = 3;

/// Tags: up to 30, each 1-50 characters without control characters or `|` (the CSV
/// separator), no duplicates (ignoring case).
pub fn check_tags(tags: &[String]) -> Result<(), &'static str> {
    if tags.len() > MAX_TAGS {
        return Err("at most 30 tags");
    }
    let mut seen = std::collections::BTreeSet::new();
    for tag in tags {
        let trimmed = tag.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 50
            || tag.chars().any(|c| c.is_control() || c == '|')
        {
            return Err("each tag 1-50 characters, without `|`");
        }
        if !seen.insert(trimmed.to_lowercase()) {
            return Err("a tag appears twice");
        }
    }
    Ok(())
}

/// Tags as stored: trimmed.
pub fn normalize_tags(tags: &[String]) -> Vec<String> {
    tags.iter().map(|t| t.trim().to_owned()).collect()
}

/// Option types: up to 3 distinct names of 1-30 letters, digits, spaces, `-` or `_`.
pub fn check_option_types(names: &[String]) -> Result<(), &'static str> {
    if names.len() > MAX_OPTION_TYPES {
        return Err("at most 3 option types");
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        let ok = !name.trim().is_empty()
            && name.chars().count() <= 30
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'));
        if !ok {
            return Err("each 1-30 letters, digits, spaces, `-` or `_`");
        }
        if !seen.insert(name.trim().to_lowercase()) {
            return Err("an option type appears twice");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProductStatus::*;

    fn product(status: ProductStatus) -> Product {
        Product {
            id: ProductId::new(),
            vendor: VendorId::new(),
            slug: "tea".into(),
            title: "Tea".into(),
            description: None,
            status,
            status_reason: None,
            category: None,
            tags: vec![],
            option_types: vec![],
            seo: Seo::default(),
            currency: None,
            min_price: 0,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    const ACTIONS: [ProductAction; 5] = [
        ProductAction::Publish,
        ProductAction::Approve,
        ProductAction::Reject,
        ProductAction::Archive,
        ProductAction::Restore,
    ];

    fn moves(side: Side, moderated: bool) -> Vec<(ProductAction, ProductStatus, ProductStatus)> {
        ACTIONS
            .into_iter()
            .flat_map(|a| {
                ProductStatus::ALL
                    .into_iter()
                    .filter_map(move |s| a.target(s, side, moderated).map(|t| (a, s, t)))
            })
            .collect()
    }

    #[test]
    fn a_vendor_publishes_into_review_only_when_the_shop_moderates() {
        use ProductAction::*;
        assert_eq!(
            moves(Side::Vendor, true),
            vec![
                (Publish, Draft, PendingReview),
                (Publish, Rejected, PendingReview),
                (Archive, Draft, Archived),
                (Archive, PendingReview, Archived),
                (Archive, Active, Archived),
                (Archive, Rejected, Archived),
                (Restore, Archived, Draft),
            ]
        );
        let unmoderated = moves(Side::Vendor, false);
        assert!(unmoderated.contains(&(Publish, Draft, Active)));
        assert!(!unmoderated.iter().any(|(_, _, to)| *to == PendingReview));
    }

    #[test]
    fn only_the_merchant_moderates() {
        use ProductAction::*;
        let merchant = moves(Side::Merchant, true);
        assert!(
            merchant.contains(&(Publish, Draft, Active)),
            "their publish is an approval"
        );
        assert!(merchant.contains(&(Approve, PendingReview, Active)));
        assert!(merchant.contains(&(Reject, PendingReview, Rejected)));
        assert!(merchant.contains(&(Reject, Active, Rejected)));
        for side_moves in [moves(Side::Vendor, true), moves(Side::Vendor, false)] {
            assert!(!side_moves.iter().any(|(a, _, _)| a.merchant_only()));
        }
        assert!(Reject.needs_reason() && !Approve.needs_reason());
    }

    #[test]
    fn impossible_moves_are_conflicts() {
        let p = product(Archived);
        let problem = p
            .plan(ProductAction::Publish, Side::Vendor, false)
            .unwrap_err();
        assert_eq!(problem.status.as_u16(), 409);
        assert_eq!(problem.code, "invalid_transition");
        assert_eq!(
            product(Draft)
                .plan(ProductAction::Publish, Side::Vendor, false)
                .unwrap(),
            Active
        );
        for a in ACTIONS {
            assert_eq!(ProductAction::parse(a.code()), Some(a));
        }
        for s in ProductStatus::ALL {
            assert_eq!(ProductStatus::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn a_vendor_edit_shoppers_see_sends_an_approved_product_back_to_review() {
        let mut live = product(Active);
        assert!(live.after_edit(Edit::Shown, Side::Vendor, true));
        assert_eq!((live.status, live.status_reason), (PendingReview, None));

        // The merchant's own edit, an edit shoppers do not see, a shop that does not
        // moderate: the product stays on sale.
        for (edit, side, moderated) in [
            (Edit::Shown, Side::Merchant, true),
            (Edit::Unseen, Side::Vendor, true),
            (Edit::Shown, Side::Vendor, false),
        ] {
            let mut p = product(Active);
            assert!(
                !p.after_edit(edit, side, moderated),
                "{edit:?} {side:?} {moderated}"
            );
            assert_eq!(p.status, Active);
        }
        // Not on sale: reviewed when published, so the status (and a rejection's reason) stays.
        for status in [Draft, PendingReview, Rejected, Archived] {
            let mut p = product(status);
            p.status_reason = Some("blurry".into());
            assert!(!p.after_edit(Edit::Shown, Side::Vendor, true));
            assert_eq!(
                (p.status, p.status_reason.as_deref()),
                (status, Some("blurry"))
            );
        }
    }

    #[test]
    fn an_action_on_what_the_caller_saw_fails_once_the_product_changed() {
        let p = product(PendingReview);
        assert!(p.check_seen(None).is_ok());
        assert!(p.check_seen(Some(p.updated_at)).is_ok());
        let stale = p.updated_at - chrono::Duration::microseconds(1);
        let problem = p.check_seen(Some(stale)).unwrap_err();
        assert_eq!(
            (problem.status.as_u16(), problem.code),
            (409, "product_changed")
        );
    }

    #[test]
    fn every_field_of_the_page_is_shown() {
        let base = product(Active);
        assert!(!base.shown_differs(&base.clone()));
        let mut status_only = base.clone();
        status_only.status = Rejected;
        status_only.updated_at = chrono::Utc::now() + chrono::Duration::seconds(5);
        status_only.min_price = 100;
        assert!(
            !base.shown_differs(&status_only),
            "not fields a person edits"
        );
        let edits: [fn(&mut Product); 7] = [
            |p| p.title = "Green tea".into(),
            |p| p.slug = "green-tea".into(),
            |p| p.description = Some("Buy elsewhere".into()),
            |p| p.category = Some(CategoryId::new()),
            |p| p.tags = vec!["new".into()],
            |p| p.option_types = vec!["size".into()],
            |p| p.seo.title = Some("Cheap".into()),
        ];
        for edit in edits {
            let mut changed = base.clone();
            edit(&mut changed);
            assert!(base.shown_differs(&changed), "{changed:?}");
        }
        assert_eq!(Edit::shown_if(true), Edit::Shown);
        assert_eq!(Edit::shown_if(false), Edit::Unseen);
    }

    #[test]
    fn tags_and_option_types_are_checked() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(check_tags(&s(&["organic", "green tea"])).is_ok());
        assert_eq!(check_tags(&s(&["Tea", "tea"])), Err("a tag appears twice"));
        assert!(check_tags(&s(&["a|b"])).is_err());
        assert!(check_tags(&s(&[" "])).is_err());
        assert!(check_tags(&vec!["x".to_owned(); 31]).is_err());
        assert!(check_option_types(&s(&["size", "colour"])).is_ok());
        assert!(check_option_types(&s(&["size", "Size"])).is_err());
        assert!(check_option_types(&s(&["a", "b", "c", "d"])).is_err());
        assert!(check_option_types(&s(&["size=x"])).is_err());
    }
}
