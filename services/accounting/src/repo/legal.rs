//! What commission invoices need to know (ADR 0043): the shop's invoice settings (its legal
//! details, and whether it sells in its own name), kept here; vendors' legal details and
//! the shop's tax rates, mirrored from vendors' and orders' events (`crate::mirrors`, with
//! the platform's mechanism), declared here with their reads.

use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_events::{MirrorRow, MirrorTable};
use mercato_tenant_context::VendorId;
use mercato_vendors_api::vendor::{LegalAddress, LegalDetails};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable, Value};
use std::collections::HashMap;

fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, DbErr> {
    row.try_get("", name)
}

fn address_of(row: &QueryResult) -> Result<Option<LegalAddress>, DbErr> {
    col::<Option<String>>(row, "address")?
        .map(|text| {
            serde_json::from_str(&text)
                .map_err(|_| DbErr::Custom(format!("stored address is invalid: {text:?}")))
        })
        .transpose()
}

fn address_text(address: Option<&LegalAddress>) -> Option<String> {
    // A struct of strings always serialises.
    address.map(|a| serde_json::to_string(a).unwrap_or_default())
}

/// The shop's invoice settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSettings {
    pub legal: LegalDetails,
    /// Customer invoices name the shop as seller (otherwise the vendor).
    pub sells_in_own_name: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
}

/// The shop's invoice settings, if merchant staff have given them.
pub async fn settings(tx: &TenantTx) -> Result<Option<InvoiceSettings>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT legal_name, address, country, vat_id, sells_in_own_name, updated_at, \
             updated_by FROM invoice_settings WHERE tenant_id = $1",
            [tx.tenant().as_uuid().into()],
        ))
        .await?;
    row.map(|row| {
        Ok(InvoiceSettings {
            legal: LegalDetails {
                legal_name: col(&row, "legal_name")?,
                address: address_of(&row)?,
                country: col(&row, "country")?,
                vat_id: col(&row, "vat_id")?,
            },
            sells_in_own_name: col(&row, "sells_in_own_name")?,
            updated_at: col(&row, "updated_at")?,
            updated_by: col(&row, "updated_by")?,
        })
    })
    .transpose()
}

/// Replaces the shop's invoice settings.
pub async fn save_settings(tx: &TenantTx, s: &InvoiceSettings) -> Result<(), DbErr> {
    tx.execute_raw(statement(
        &**tx,
        "INSERT INTO invoice_settings (tenant_id, legal_name, address, country, vat_id, \
         sells_in_own_name, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id) DO UPDATE SET legal_name = excluded.legal_name, \
         address = excluded.address, country = excluded.country, vat_id = excluded.vat_id, \
         sells_in_own_name = excluded.sells_in_own_name, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
        [
            tx.tenant().as_uuid().into(),
            s.legal.legal_name.clone().into(),
            address_text(s.legal.address.as_ref())
                .unwrap_or_else(|| "null".to_owned())
                .into(),
            s.legal.country.clone().into(),
            s.legal.vat_id.clone().into(),
            s.sells_in_own_name.into(),
            s.updated_at.into(),
            s.updated_by.clone().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A vendor's legal details as vendors last described them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorLegal {
    pub vendor: VendorId,
    pub legal: LegalDetails,
}

/// `vendor_legal`, kept by `mirrors::VendorLegalMirror`.
pub const VENDOR_LEGAL: MirrorTable = MirrorTable {
    name: "vendor_legal",
    key: "id",
    version: "synced_at",
    columns: &["legal_name", "address", "country", "vat_id"],
    on_insert: &[],
};

impl MirrorRow for VendorLegal {
    fn key(&self) -> uuid::Uuid {
        self.vendor.as_uuid()
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.legal.legal_name.clone().into(),
            address_text(self.legal.address.as_ref()).into(),
            self.legal.country.clone().into(),
            self.legal.vat_id.clone().into(),
        ]
    }
}

/// The legal details of `vendors` accounting knows.
pub async fn vendor_legal(
    tx: &TenantTx,
    vendors: &[VendorId],
) -> Result<HashMap<VendorId, LegalDetails>, DbErr> {
    if vendors.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    values.extend(vendors.iter().map(|v| v.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT id, legal_name, address, country, vat_id FROM vendor_legal \
                 WHERE tenant_id = $1 AND id IN ({})",
                placeholders(2, vendors.len())
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                VendorId::from_uuid(col(row, "id")?),
                LegalDetails {
                    legal_name: col(row, "legal_name")?,
                    address: address_of(row)?,
                    country: col(row, "country")?,
                    vat_id: col(row, "vat_id")?,
                },
            ))
        })
        .collect()
}

/// One of the shop's tax rates as orders last described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredTaxRate {
    pub id: uuid::Uuid,
    pub country: String,
    pub category: String,
    /// A decimal percentage (`"19"`).
    pub rate: String,
    pub deleted: bool,
}

/// `tax_rates`, kept by `mirrors::TaxRateMirror`; a removed rate stays as a tombstone.
pub const TAX_RATES: MirrorTable = MirrorTable {
    name: "tax_rates",
    key: "id",
    version: "synced_at",
    columns: &["country", "category", "rate", "deleted"],
    on_insert: &[],
};

impl MirrorRow for MirroredTaxRate {
    fn key(&self) -> uuid::Uuid {
        self.id
    }

    fn values(&self) -> Vec<Value> {
        vec![
            self.country.clone().into(),
            self.category.clone().into(),
            self.rate.clone().into(),
            self.deleted.into(),
        ]
    }
}

/// The shop's live rate of `category` in `country` (a decimal percentage), if it has one.
pub async fn tax_rate(
    tx: &TenantTx,
    country: &str,
    category: &str,
) -> Result<Option<String>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT rate FROM tax_rates WHERE tenant_id = $1 AND country = $2 \
             AND category = $3 AND deleted = $4 ORDER BY synced_at DESC LIMIT 1",
            [
                tx.tenant().as_uuid().into(),
                country.into(),
                category.into(),
                false.into(),
            ],
        ))
        .await?;
    row.map(|row| col(&row, "rate")).transpose()
}
