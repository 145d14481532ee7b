//! What orders knows of other services, kept from their events: catalog's variants (price,
//! title, vendor, categories), vendors (status, name, shipping settings), the shop's
//! commission rules and stock available per variant. Each row remembers when the event it
//! reflects happened; older events change nothing.

use super::{col, corrupt, currency_col, json_col, placeholders, statement, to_json};
use chrono::{DateTime, NaiveDate, Utc};
use mercato_db::TenantTx;
use mercato_kernel::Money;
use mercato_tenant_context::{CategoryId, ProductId, UserId, VariantId, VendorId};
use mercato_vendors_api::vendor::{Availability, VendorStatus, availability};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
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

pub async fn save_product(
    tx: &TenantTx,
    product: ProductId,
    variants: &[CatalogVariant],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    for v in variants {
        tx.execute_raw(statement(
            &**tx,
            "INSERT INTO catalog_variants (tenant_id, id, product_id, vendor_id, title, sku, price, \
               currency, categories, tax_category, visible, synced_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET product_id = excluded.product_id, \
               vendor_id = excluded.vendor_id, title = excluded.title, sku = excluded.sku, \
               price = excluded.price, currency = excluded.currency, \
               categories = excluded.categories, tax_category = excluded.tax_category, \
               visible = excluded.visible, synced_at = excluded.synced_at \
             WHERE catalog_variants.synced_at <= excluded.synced_at",
            [
                tx.tenant().as_uuid().into(),
                v.id.as_uuid().into(),
                v.product.as_uuid().into(),
                v.vendor.as_uuid().into(),
                v.title.clone().into(),
                v.sku.clone().into(),
                v.price.amount.into(),
                v.price.currency.code().to_owned().into(),
                to_json(&v.categories)?.into(),
                v.tax_category.clone().into(),
                v.visible.into(),
                at.into(),
            ],
        ))
        .await?;
    }
    // Variants the product no longer has cannot be bought.
    let keep: Vec<_> = variants.iter().map(|v| v.id.as_uuid().into()).collect();
    let mut values = vec![
        tx.tenant().as_uuid().into(),
        product.as_uuid().into(),
        at.into(),
    ];
    let not_in = if keep.is_empty() {
        String::new()
    } else {
        format!(" AND id NOT IN ({})", placeholders(4, keep.len()))
    };
    values.extend(keep);
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "UPDATE catalog_variants SET visible = FALSE, synced_at = $3 \
             WHERE tenant_id = $1 AND product_id = $2 AND synced_at <= $3{not_in}"
        ),
        values,
    ))
    .await?;
    Ok(())
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

pub async fn save_vendor(tx: &TenantTx, v: &VendorMirror, at: DateTime<Utc>) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO vendors (tenant_id, id, name, status, owner_user_id, shipping_flat_rate, \
           shipping_currency, free_shipping_over, holiday_until, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, status = excluded.status, \
           owner_user_id = excluded.owner_user_id, shipping_flat_rate = excluded.shipping_flat_rate, \
           shipping_currency = excluded.shipping_currency, \
           free_shipping_over = excluded.free_shipping_over, \
           holiday_until = excluded.holiday_until, synced_at = excluded.synced_at \
         WHERE vendors.synced_at <= excluded.synced_at",
        [
            tx.tenant().as_uuid().into(),
            v.id.as_uuid().into(),
            v.name.clone().into(),
            v.status.clone().into(),
            v.owner.map(|u| u.as_uuid()).into(),
            v.flat_rate.map(|m| m.amount).into(),
            v.flat_rate.map(|m| m.currency.code().to_owned()).into(),
            v.free_over.into(),
            v.holiday_until.map(|d| d.to_string()).into(),
            at.into(),
        ],
    ))
    .await
    .map(|_| ())
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

pub async fn save_commission_rule(
    tx: &TenantTx,
    id: uuid::Uuid,
    rule: &serde_json::Value,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO commission_rules (tenant_id, id, rule) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET rule = excluded.rule",
        [
            tx.tenant().as_uuid().into(),
            id.into(),
            to_json(rule)?.into(),
        ],
    ))
    .await
    .map(|_| ())
}

pub async fn delete_commission_rule(tx: &TenantTx, id: uuid::Uuid) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "DELETE FROM commission_rules WHERE tenant_id = $1 AND id = $2",
        [tx.tenant().as_uuid().into(), id.into()],
    ))
    .await
    .map(|_| ())
}

pub async fn save_stock(
    tx: &TenantTx,
    variant: VariantId,
    available: i64,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO stock (tenant_id, variant_id, available, synced_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, variant_id) DO UPDATE SET available = excluded.available, \
           synced_at = excluded.synced_at WHERE stock.synced_at <= excluded.synced_at",
        [
            tx.tenant().as_uuid().into(),
            variant.as_uuid().into(),
            available.into(),
            at.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// How many reports one statement of [`save_stocks`] writes: 1 + 3 bind values a row stays
/// far below SQLite's and PostgreSQL's parameter limits.
const STOCK_ROWS_PER_UPSERT: usize = 500;

/// [`save_stock`] for several variants in one multi-row upsert (per 500), with the same
/// rule: a report older than the stored one changes nothing. Each variant may appear only
/// once (PostgreSQL refuses to update a row twice in one statement): keep its latest report.
pub async fn save_stocks(
    tx: &TenantTx,
    reports: &[(VariantId, i64, DateTime<Utc>)],
) -> Result<(), DbErr> {
    for chunk in reports.chunks(STOCK_ROWS_PER_UPSERT) {
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(1 + 3 * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        let mut rows = Vec::with_capacity(chunk.len());
        for (variant, available, at) in chunk {
            rows.push(format!("($1, {})", placeholders(values.len() + 1, 3)));
            values.extend([variant.as_uuid().into(), (*available).into(), (*at).into()]);
        }
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO stock (tenant_id, variant_id, available, synced_at) VALUES {} \
                 ON CONFLICT (tenant_id, variant_id) DO UPDATE SET available = excluded.available, \
                   synced_at = excluded.synced_at WHERE stock.synced_at <= excluded.synced_at",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
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
