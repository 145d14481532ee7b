//! What orders knows of other services, kept from their events: catalog's variants (price,
//! title, vendor, categories), vendors (status, name, shipping settings), the shop's
//! commission rules and stock available per variant: the tables `events` keeps with the
//! platform's mirror mechanism (`mercato_events::Mirror`), declared here, and how the
//! service reads them. Each row remembers when the event it reflects happened; older
//! events change nothing.

use super::{col, corrupt, currency_col, json_col, placeholders, statement};
use chrono::NaiveDate;
use mercato_db::TenantTx;
use mercato_events::{MirrorRow, MirrorTable, Retire};
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, ProductId, UserId, VariantId, VendorId};
use mercato_vendors_api::commission::CommissionRuleId;
use mercato_vendors_api::vendor::{Availability, VendorStatus, availability};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use std::collections::HashMap;

/// A variant as catalog last described it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogVariant {
    pub id: VariantId,
    pub product: ProductId,
    pub vendor: VendorId,
    /// The product's title, with the variant's SKU when the product has several.
    pub title: String,
    pub sku: String,
    pub price: Money,
    /// The product's category path, root first.
    pub categories: Vec<CategoryId>,
    pub tax_category: String,
    /// Shoppers may buy it: the product is active and its vendor approved.
    pub visible: bool,
}

/// `catalog_variants`, kept by `events::CatalogMirror`.
pub const CATALOG_VARIANTS: MirrorTable = MirrorTable {
    name: "catalog_variants",
    key: "id",
    version: "synced_at",
    columns: &[
        "product_id",
        "vendor_id",
        "title",
        "sku",
        "price",
        "currency",
        "categories",
        "tax_category",
        "visible",
    ],
    on_insert: &[],
};

/// A product's variants other than those of its latest event cannot be bought.
pub fn retire_other_variants(product: ProductId) -> Retire {
    Retire {
        column: "product_id",
        group: product.as_uuid(),
        set: "visible = FALSE",
    }
}

impl MirrorRow for CatalogVariant {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.product.as_uuid().into(),
            self.vendor.as_uuid().into(),
            self.title.clone().into(),
            self.sku.clone().into(),
            self.price.amount.into(),
            self.price.currency.code().to_owned().into(),
            // A list of ids always serialises.
            serde_json::to_string(&self.categories)
                .unwrap_or_default()
                .into(),
            self.tax_category.clone().into(),
            self.visible.into(),
        ]
    }
}

pub async fn variants(
    tx: &TenantTx,
    ids: &[VariantId],
) -> Result<HashMap<VariantId, CatalogVariant>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values = vec![tx.tenant().as_uuid().into()];
    values.extend(ids.iter().map(|id| id.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {VARIANT_COLUMNS} FROM catalog_variants v \
                 WHERE v.tenant_id = $1 AND v.id IN ({})",
                placeholders(2, ids.len())
            ),
            values,
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let variant = variant_from(&row)?;
        out.insert(variant.id, variant);
    }
    Ok(out)
}

const VARIANT_COLUMNS: &str = "v.id, v.product_id, v.vendor_id, v.title, v.sku, v.price, \
    v.currency, v.categories, v.tax_category, v.visible";

fn variant_from(row: &QueryResult) -> Result<CatalogVariant, DbErr> {
    Ok(CatalogVariant {
        id: VariantId::from_uuid(col(row, "id")?),
        product: ProductId::from_uuid(col(row, "product_id")?),
        vendor: VendorId::from_uuid(col(row, "vendor_id")?),
        title: col(row, "title")?,
        sku: col(row, "sku")?,
        price: Money::new(col(row, "price")?, currency_col(row, "currency")?),
        categories: json_col(row, "categories")?,
        tax_category: col(row, "tax_category")?,
        visible: col(row, "visible")?,
    })
}

/// A vendor as the vendors service last described it.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorMirror {
    pub id: VendorId,
    pub name: String,
    pub status: String,
    pub owner: Option<UserId>,
    pub flat_rate: Option<Money>,
    pub free_over: Option<i64>,
    /// Away until this day (inclusive).
    pub holiday_until: Option<NaiveDate>,
}

/// Whether a vendor takes orders today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selling {
    Yes,
    /// Not approved (yet), or unknown to orders.
    No,
    /// Suspended by the shop.
    Suspended,
    /// Approved but away: it takes orders again on this day.
    BackOn(NaiveDate),
}

impl VendorMirror {
    /// Whether it takes orders on `today` (the shop's day, UTC).
    pub fn selling_on(&self, today: NaiveDate) -> Selling {
        let Some(status) = VendorStatus::parse(&self.status) else {
            return Selling::No;
        };
        match availability(status, self.holiday_until, today) {
            Availability::Selling => Selling::Yes,
            Availability::OnHoliday { back_on } => Selling::BackOn(back_on),
            Availability::Stopped if status == VendorStatus::Suspended => Selling::Suspended,
            Availability::Stopped | Availability::NotYet => Selling::No,
        }
    }
}

/// How `vendor` (absent: unknown to orders) sells on `today`.
pub fn selling(vendor: Option<&VendorMirror>, today: NaiveDate) -> Selling {
    vendor.map_or(Selling::No, |v| v.selling_on(today))
}

/// `vendors`, kept by `events::VendorsMirror`.
pub const VENDORS: MirrorTable = MirrorTable {
    name: "vendors",
    key: "id",
    version: "synced_at",
    columns: &[
        "name",
        "status",
        "owner_user_id",
        "shipping_flat_rate",
        "shipping_currency",
        "free_shipping_over",
        "holiday_until",
    ],
    on_insert: &[],
};

impl MirrorRow for VendorMirror {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.name.clone().into(),
            self.status.clone().into(),
            self.owner.map(|u| u.as_uuid()).into(),
            self.flat_rate.map(|m| m.amount).into(),
            self.flat_rate.map(|m| m.currency.code().to_owned()).into(),
            self.free_over.into(),
            self.holiday_until.map(|d| d.to_string()).into(),
        ]
    }
}

/// What orders knows of some variants: catalog's description, the units available and
/// their vendors, read in one statement. Variants catalog never described are left out,
/// and so is their stock: nothing can be bought or priced without the description.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub variants: HashMap<VariantId, CatalogVariant>,
    /// Units available per variant (absent: inventory never said, so none).
    pub stock: HashMap<VariantId, i64>,
    /// The vendors of `variants` that the vendors service described.
    pub vendors: HashMap<VendorId, VendorMirror>,
}

pub async fn lookups(tx: &TenantTx, ids: &[VariantId]) -> Result<Lookups, DbErr> {
    let mut out = Lookups::default();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut values = vec![tx.tenant().as_uuid().into()];
    values.extend(ids.iter().map(|id| id.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT {VARIANT_COLUMNS}, s.available, n.id AS vendor_known, \
                   n.name AS vendor_name, n.status AS vendor_status, n.owner_user_id, \
                   n.shipping_flat_rate, n.shipping_currency, n.free_shipping_over, \
                   n.holiday_until \
                 FROM catalog_variants v \
                 LEFT JOIN stock s ON s.tenant_id = v.tenant_id AND s.variant_id = v.id \
                 LEFT JOIN vendors n ON n.tenant_id = v.tenant_id AND n.id = v.vendor_id \
                 WHERE v.tenant_id = $1 AND v.id IN ({})",
                placeholders(2, ids.len())
            ),
            values,
        ))
        .await?;
    for row in rows {
        let variant = variant_from(&row)?;
        if let Some(available) = col::<Option<i64>>(&row, "available")? {
            out.stock.insert(variant.id, available);
        }
        if col::<Option<uuid::Uuid>>(&row, "vendor_known")?.is_some() {
            let flat: Option<i64> = col(&row, "shipping_flat_rate")?;
            let currency: Option<String> = col(&row, "shipping_currency")?;
            let flat_rate = match (flat, currency) {
                (Some(amount), Some(code)) => Some(Money::new(
                    amount,
                    mercato_kernel::Currency::parse(&code)
                        .map_err(|_| corrupt("currency", &code))?,
                )),
                _ => None,
            };
            out.vendors.insert(
                variant.vendor,
                VendorMirror {
                    id: variant.vendor,
                    name: col(&row, "vendor_name")?,
                    status: col(&row, "vendor_status")?,
                    owner: col::<Option<uuid::Uuid>>(&row, "owner_user_id")?.map(UserId::from_uuid),
                    flat_rate,
                    free_over: col(&row, "free_shipping_over")?,
                    holiday_until: col::<Option<String>>(&row, "holiday_until")?
                        .map(|d| d.parse().map_err(|_| corrupt("holiday", &d)))
                        .transpose()?,
                },
            );
        }
        out.variants.insert(variant.id, variant);
    }
    Ok(out)
}

/// `commission_rules`, kept by `events::CommissionMirror`.
pub const COMMISSION_RULES: MirrorTable = MirrorTable {
    name: "commission_rules",
    key: "id",
    version: "synced_at",
    columns: &["rule", "deleted"],
    on_insert: &[],
};

/// A commission rule as its event carried it (a `CommissionRuleSnapshot`), or its tombstone.
pub struct MirroredRule {
    pub id: CommissionRuleId,
    pub rule: serde_json::Value,
    pub deleted: bool,
}

impl MirrorRow for MirroredRule {
    fn key(&self) -> uuid::Uuid {
        self.id.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![self.rule.to_string().into(), self.deleted.into()]
    }
}

/// `stock`, kept by `events::StockMirror`.
pub const STOCK: MirrorTable = MirrorTable {
    name: "stock",
    key: "variant_id",
    version: "synced_at",
    columns: &["available"],
    on_insert: &[],
};

/// The units of a variant inventory says are available.
pub struct StockRow {
    pub variant: VariantId,
    pub available: i64,
}

impl MirrorRow for StockRow {
    fn key(&self) -> uuid::Uuid {
        self.variant.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![self.available.into()]
    }
}

/// Units available per variant, as inventory last said (0 when it never did).
pub async fn available(tx: &TenantTx, ids: &[VariantId]) -> Result<HashMap<VariantId, i64>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values = vec![tx.tenant().as_uuid().into()];
    values.extend(ids.iter().map(|id| id.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT variant_id, available FROM stock WHERE tenant_id = $1 AND variant_id IN ({})",
                placeholders(2, ids.len())
            ),
            values,
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        out.insert(
            VariantId::from_uuid(col(&row, "variant_id")?),
            col(&row, "available")?,
        );
    }
    Ok(out)
}
