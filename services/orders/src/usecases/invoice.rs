//! What accounting's invoices need from a paid order beyond its money (`order.paid`'s
//! `invoice` block): the buyer as addressed, every line, the vendors' store names from
//! the vendors mirror, and the hash of the guest's order token (ADR 0044).

use crate::domain::order::FullOrder;
use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_orders_api::events::{InvoiceDetails, InvoiceLine, InvoiceParty, InvoiceSeller};
use mercato_tenant_context::VendorId;
use sea_orm::{ConnectionTrait, DbErr};

/// The invoice block of `full`'s `order.paid`, in `tx`.
pub async fn details(tx: &TenantTx, full: &FullOrder) -> Result<InvoiceDetails, DbErr> {
    let o = &full.order;
    let a = &o.shipping_address;
    let address = [
        Some(a.line1.clone()),
        a.line2.clone(),
        Some(format!("{} {}", a.postal_code, a.city)),
        Some(a.country.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|l| !l.trim().is_empty())
    .collect();
    Ok(InvoiceDetails {
        buyer: InvoiceParty {
            name: a.name.clone(),
            address,
            email: Some(o.email.clone()).filter(|e| !e.is_empty()),
        },
        prices_include_tax: o.prices_include_tax,
        sellers: sellers(tx, full).await?,
        lines: full
            .lines
            .iter()
            .map(|l| InvoiceLine {
                vendor_order_id: l.vendor_order,
                title: l.title.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                tax_rate: l.tax_rate.clone(),
                tax: l.tax,
                total: l.total,
            })
            .collect(),
        order_token_hash: Some(o.token_hash.clone()).filter(|h| !h.is_empty()),
    })
}

/// The store names of the order's vendors that the mirror knows.
async fn sellers(tx: &TenantTx, full: &FullOrder) -> Result<Vec<InvoiceSeller>, DbErr> {
    let ids: Vec<VendorId> = full.vendor_orders.iter().map(|v| v.vendor).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<sea_orm::Value> = vec![tx.tenant().as_uuid().into()];
    values.extend(ids.iter().map(|id| id.as_uuid().into()));
    let rows = tx
        .query_all_raw(statement(
            &**tx,
            &format!(
                "SELECT id, name FROM vendors WHERE tenant_id = $1 AND id IN ({})",
                placeholders(2, ids.len())
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(InvoiceSeller {
                vendor_id: VendorId::from_uuid(row.try_get("", "id")?),
                name: row.try_get("", "name")?,
            })
        })
        .collect()
}
