//! Customer documents' SQL (ADR 0040): the per-shop, per-series counters numbers are
//! allocated from, the documents, and their reads for the API and the render job.

use crate::domain::DocumentId;
use crate::domain::invoice::{Amounts, DocumentKind, Printed};
use mercato_db::TenantTx;
use mercato_db::sql::{placeholders, statement};
use mercato_kernel::Currency;
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_payouts_api::PayoutId;
use mercato_tenant_context::{UserId, VendorId};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, TryGetable, Value};
use uuid::Uuid;

fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, DbErr> {
    row.try_get("", name)
}

fn corrupt(what: &str, value: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} is invalid: {value:?}"))
}

/// The next `count` numbers of the shop's `series`, in `tx`: the first of them (1 for the
/// series' first document). The counter row is created on first use, then incremented in
/// place, so concurrent transactions of one shop and series queue on its row lock
/// (PostgreSQL) or on the write lock (SQLite) and each gets the next numbers; a transaction
/// that rolls back takes its increment with it, so no number is skipped or handed out twice.
/// One statement once the row exists (two the first time).
pub async fn allocate_numbers(tx: &TenantTx, series: &str, count: usize) -> Result<i64, DbErr> {
    let tenant = tx.tenant().as_uuid();
    let count = i64::try_from(count.max(1))
        .map_err(|_| DbErr::Custom(format!("{count} numbers of {series} at once")))?;
    let increment = || {
        tx.query_one_raw(statement(
            &**tx,
            "UPDATE document_counters SET last_number = last_number + $3 \
             WHERE tenant_id = $1 AND series = $2 RETURNING last_number",
            [tenant.into(), series.into(), count.into()],
        ))
    };
    let row = match increment().await? {
        Some(row) => row,
        None => {
            tx.execute_raw(statement(
                &**tx,
                "INSERT INTO document_counters (tenant_id, series, last_number) \
                 VALUES ($1, $2, 0) ON CONFLICT (tenant_id, series) DO NOTHING",
                [tenant.into(), series.into()],
            ))
            .await?;
            increment()
                .await?
                .ok_or_else(|| DbErr::RecordNotFound(format!("document counter {series}")))?
        }
    };
    let last: i64 = col(&row, "last_number")?;
    Ok(last - count + 1)
}

/// A document to issue.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub series: String,
    pub seq: i64,
    pub number: String,
    pub source_key: String,
    /// The order and vendor order of a customer document; none on a commission invoice.
    pub order: Option<OrderId>,
    pub vendor_order: Option<VendorOrderId>,
    /// The payout of a commission invoice.
    pub payout: Option<PayoutId>,
    pub vendor: VendorId,
    pub customer: Option<UserId>,
    pub refund: Option<RefundId>,
    pub invoice: Option<DocumentId>,
    pub currency: Currency,
    pub amounts: Amounts,
    pub printed: Printed,
    pub issued_at: chrono::DateTime<chrono::Utc>,
}

/// Documents per multi-row insert: 21 bind values a row plus the shop's stays far below
/// either backend's parameter limit.
const DOCUMENTS_PER_INSERT: usize = 500;

/// Writes `docs`, pending their rendering: one statement per 500. A document whose source
/// key exists fails the statement on the unique key (the caller checked there was none in
/// its transaction).
pub async fn insert_all(tx: &TenantTx, docs: &[NewDocument]) -> Result<(), DbErr> {
    const WIDTH: usize = 21;
    for chunk in docs.chunks(DOCUMENTS_PER_INSERT) {
        let mut values: Vec<Value> = Vec::with_capacity(1 + WIDTH * chunk.len());
        values.push(tx.tenant().as_uuid().into());
        for doc in chunk {
            let body = serde_json::to_string(&doc.printed)
                .map_err(|e| DbErr::Custom(format!("document body: {e}")))?;
            let a = &doc.amounts;
            values.extend([
                doc.id.as_uuid().into(),
                doc.kind.code().into(),
                doc.series.clone().into(),
                doc.seq.into(),
                doc.number.clone().into(),
                doc.source_key.clone().into(),
                doc.order.map(|o| o.as_uuid()).into(),
                doc.vendor_order.map(|v| v.as_uuid()).into(),
                doc.vendor.as_uuid().into(),
                doc.customer.map(|c| c.as_uuid()).into(),
                doc.refund.map(|r| r.as_uuid()).into(),
                doc.invoice.map(|i| i.as_uuid()).into(),
                doc.currency.code().into(),
                a.net.into(),
                a.tax.into(),
                a.shipping.into(),
                a.discount.into(),
                a.total.into(),
                body.into(),
                doc.issued_at.into(),
                doc.payout.map(|p| p.as_uuid()).into(),
            ]);
        }
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, {}, 'pending')", placeholders(2 + WIDTH * i, WIDTH)))
            .collect();
        tx.execute_raw(statement(
            &**tx,
            &format!(
                "INSERT INTO customer_documents (tenant_id, id, kind, series, seq, number, \
                 source_key, order_id, vendor_order_id, vendor_id, customer_id, refund_id, \
                 invoice_id, currency, net, tax, shipping, discount, total, body, issued_at, \
                 payout_id, status) VALUES {}",
                rows.join(", ")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// A stored document.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub number: String,
    /// The order and vendor order of a customer document; none on a commission invoice.
    pub order: Option<OrderId>,
    pub vendor_order: Option<VendorOrderId>,
    /// The payout of a commission invoice.
    pub payout: Option<PayoutId>,
    pub vendor: VendorId,
    pub customer: Option<UserId>,
    pub refund: Option<RefundId>,
    pub invoice: Option<DocumentId>,
    pub currency: Currency,
    pub amounts: Amounts,
    pub printed: Printed,
    pub rendered: bool,
    pub object_key: Option<String>,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub rendered_at: Option<chrono::DateTime<chrono::Utc>>,
}

const COLUMNS: &str = "id, kind, number, order_id, vendor_order_id, vendor_id, customer_id, \
    refund_id, invoice_id, currency, net, tax, shipping, discount, total, body, status, \
    object_key, issued_at, rendered_at, payout_id";

fn from_row(row: &QueryResult) -> Result<StoredDocument, DbErr> {
    let kind: String = col(row, "kind")?;
    let currency: String = col(row, "currency")?;
    let body: String = col(row, "body")?;
    let status: String = col(row, "status")?;
    Ok(StoredDocument {
        id: DocumentId::from_uuid(col(row, "id")?),
        kind: DocumentKind::parse(&kind).ok_or_else(|| corrupt("document kind", &kind))?,
        number: col(row, "number")?,
        order: col::<Option<Uuid>>(row, "order_id")?.map(OrderId::from_uuid),
        vendor_order: col::<Option<Uuid>>(row, "vendor_order_id")?.map(VendorOrderId::from_uuid),
        payout: col::<Option<Uuid>>(row, "payout_id")?.map(PayoutId::from_uuid),
        vendor: VendorId::from_uuid(col(row, "vendor_id")?),
        customer: col::<Option<Uuid>>(row, "customer_id")?.map(UserId::from_uuid),
        refund: col::<Option<Uuid>>(row, "refund_id")?.map(RefundId::from_uuid),
        invoice: col::<Option<Uuid>>(row, "invoice_id")?.map(DocumentId::from_uuid),
        currency: Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
        amounts: Amounts {
            net: col(row, "net")?,
            tax: col(row, "tax")?,
            shipping: col(row, "shipping")?,
            discount: col(row, "discount")?,
            total: col(row, "total")?,
        },
        printed: serde_json::from_str(&body).map_err(|_| corrupt("document body", &body))?,
        rendered: status == "rendered",
        object_key: col(row, "object_key")?,
        issued_at: col(row, "issued_at")?,
        rendered_at: col(row, "rendered_at")?,
    })
}

/// The shop's document with `source_key`, if issued.
pub async fn find_by_key(tx: &TenantTx, source_key: &str) -> Result<Option<StoredDocument>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            &format!(
                "SELECT {COLUMNS} FROM customer_documents WHERE tenant_id = $1 AND source_key = $2"
            ),
            [tx.tenant().as_uuid().into(), source_key.into()],
        ))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The shop's document `id`.
pub async fn find(tx: &TenantTx, id: DocumentId) -> Result<Option<StoredDocument>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            &format!("SELECT {COLUMNS} FROM customer_documents WHERE tenant_id = $1 AND id = $2"),
            [tx.tenant().as_uuid().into(), id.as_uuid().into()],
        ))
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whose documents a reader sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// All of the shop's (merchant staff with `ledger:read`).
    All,
    /// Those of these vendors, and those of orders `customer` placed.
    Of {
        vendors: Vec<VendorId>,
        customer: Option<UserId>,
    },
}

impl Visible {
    pub fn sees(&self, doc: &StoredDocument) -> bool {
        match self {
            Visible::All => true,
            Visible::Of { vendors, customer } => {
                vendors.contains(&doc.vendor) || customer.is_some_and(|c| doc.customer == Some(c))
            }
        }
    }
}

/// The documents `visible` covers after `after` (id order), at most `limit`, of `order` when
/// given.
pub async fn list(
    tx: &TenantTx,
    visible: &Visible,
    order: Option<OrderId>,
    after: Option<DocumentId>,
    limit: u64,
) -> Result<Vec<StoredDocument>, DbErr> {
    let mut sql = format!("SELECT {COLUMNS} FROM customer_documents WHERE tenant_id = $1");
    let mut values: Vec<Value> = vec![tx.tenant().as_uuid().into()];
    if let Visible::Of { vendors, customer } = visible {
        let mut any = Vec::new();
        if !vendors.is_empty() {
            let from = values.len() + 1;
            values.extend(vendors.iter().map(|v| v.as_uuid().into()));
            any.push(format!(
                "vendor_id IN ({})",
                placeholders(from, vendors.len())
            ));
        }
        if let Some(customer) = customer {
            values.push(customer.as_uuid().into());
            any.push(format!("customer_id = ${}", values.len()));
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if let Some(order) = order {
        values.push(order.as_uuid().into());
        sql.push_str(&format!(" AND order_id = ${}", values.len()));
    }
    if let Some(after) = after {
        values.push(after.as_uuid().into());
        sql.push_str(&format!(" AND id > ${}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
    let rows = tx.query_all_raw(statement(&**tx, &sql, values)).await?;
    rows.iter().map(from_row).collect()
}

/// Marks `id` rendered into `object_key`; false when it was already.
pub async fn mark_rendered(tx: &TenantTx, id: DocumentId, object_key: &str) -> Result<bool, DbErr> {
    let done = tx
        .execute_raw(statement(
            &**tx,
            "UPDATE customer_documents SET status = 'rendered', object_key = $3, \
             rendered_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
            [
                tx.tenant().as_uuid().into(),
                id.as_uuid().into(),
                object_key.into(),
                crate::now().into(),
            ],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A vendor order's commission as a commission invoice carried it (ADR 0043).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionItem {
    /// The commission invoice.
    pub document: DocumentId,
    pub payout: PayoutId,
    /// The commission invoiced, VAT included.
    pub commission: i64,
    /// The VAT rate it was invoiced at (`"19"`); none: reverse charge.
    pub vat_rate: Option<String>,
}

/// Records that commission invoice `document` of `payout` carried the commission of each of
/// `items` (vendor order, commission) at `vat_rate` (none: reverse charge). A vendor order
/// carried before keeps its first invoice.
pub async fn save_commission_items(
    tx: &TenantTx,
    document: DocumentId,
    payout: PayoutId,
    items: &[(VendorOrderId, i64)],
    vat_rate: Option<&str>,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value> = vec![
        tx.tenant().as_uuid().into(),
        document.as_uuid().into(),
        payout.as_uuid().into(),
        vat_rate.map(str::to_owned).into(),
    ];
    let mut rows = Vec::with_capacity(items.len());
    for (vendor_order, commission) in items {
        values.push(vendor_order.as_uuid().into());
        values.push((*commission).into());
        rows.push(format!(
            "($1, ${}, $2, $3, ${}, $4)",
            values.len() - 1,
            values.len()
        ));
    }
    tx.execute_raw(statement(
        &**tx,
        &format!(
            "INSERT INTO commission_items (tenant_id, vendor_order_id, document_id, payout_id, \
             commission, vat_rate) VALUES {} ON CONFLICT (tenant_id, vendor_order_id) DO NOTHING",
            rows.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// The commission invoice that carried `vendor_order`'s commission, if one did.
pub async fn commission_item(
    tx: &TenantTx,
    vendor_order: VendorOrderId,
) -> Result<Option<CommissionItem>, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT document_id, payout_id, commission, vat_rate FROM commission_items \
             WHERE tenant_id = $1 AND vendor_order_id = $2",
            [tx.tenant().as_uuid().into(), vendor_order.as_uuid().into()],
        ))
        .await?;
    row.map(|row| {
        Ok(CommissionItem {
            document: DocumentId::from_uuid(col(&row, "document_id")?),
            payout: PayoutId::from_uuid(col(&row, "payout_id")?),
            commission: col(&row, "commission")?,
            vat_rate: col(&row, "vat_rate")?,
        })
    })
    .transpose()
}

/// What commission credit notes of commission invoice `invoice` credited for `vendor_order`
/// so far (VAT included).
pub async fn credited_commission(
    tx: &TenantTx,
    invoice: DocumentId,
    vendor_order: VendorOrderId,
) -> Result<i64, DbErr> {
    let row = tx
        .query_one_raw(statement(
            &**tx,
            "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) AS credited FROM customer_documents \
             WHERE tenant_id = $1 AND invoice_id = $2 AND vendor_order_id = $3 AND kind = $4",
            [
                tx.tenant().as_uuid().into(),
                invoice.as_uuid().into(),
                vendor_order.as_uuid().into(),
                DocumentKind::CommissionCreditNote.code().into(),
            ],
        ))
        .await?;
    row.map_or(Ok(0), |row| col(&row, "credited"))
}
