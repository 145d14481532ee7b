//! Customer invoices and credit notes (ADR 0040): issued by the `accounting-orders`
//! consumer in the transaction that posts the sale or the refund they document, and the
//! shop's commission invoices to vendors (ADR 0043) in the one that books a payout, each with
//! the next gapless number of its shop and series, and a render job queued in that same
//! transaction. The job ([`RENDER_JOB`], [`render_worker`]) renders the PDF with
//! `mercato_documents`, stores it under the shop's and vendor's prefix and marks the
//! document rendered; the API serves the stored file.

use crate::AccountingState;
use crate::domain::DocumentId;
use crate::domain::commission;
use crate::domain::invoice::{self, Amounts, DocumentKind, Printed, PrintedParty};
use crate::domain::posting::Booked;
use crate::repo::documents::{self, NewDocument, StoredDocument};
use crate::repo::legal;
use async_trait::async_trait;
use mercato_db::{Db, TenantTx};
use mercato_documents::{Column, Document, Party, Table, Total};
use mercato_jobs::{Job, JobHandler, JobOutcome, NewJob};
use mercato_kernel::Currency;
use mercato_orders_api::events::{OrderChanged, VendorOrderMoney};
use mercato_orders_api::money::SaleParts;
use mercato_orders_api::{OrderId, RefundId};
use mercato_payouts_api::PayoutChanged;
use mercato_storage::{ObjectKey, Owner, Storage};
use mercato_tenant_context::VendorId;
use sea_orm::DbErr;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The job that renders one document's PDF.
pub const RENDER_JOB: &str = "accounting.render_document";
/// The storage area of the PDFs, under the vendor's prefix.
pub const AREA: &str = "invoices";

/// Issues the document `fill` describes (number allocated here) and queues its rendering,
/// in `tx`.
async fn issue(
    tx: &TenantTx,
    kind: DocumentKind,
    fill: impl FnOnce(String, i64, String, chrono::DateTime<chrono::Utc>) -> NewDocument,
) -> Result<DocumentId, DbErr> {
    let ids = issue_all(tx, kind, vec![fill]).await?;
    Ok(ids[0])
}

/// Issues the documents of `kind` that `fills` describe, numbered consecutively in their
/// order, and queues a render job for each, in `tx`: three statements however many there
/// are (the counter, the documents, the jobs), so a burst of sales costs what one does.
async fn issue_all<F>(
    tx: &TenantTx,
    kind: DocumentKind,
    fills: Vec<F>,
) -> Result<Vec<DocumentId>, DbErr>
where
    F: FnOnce(String, i64, String, chrono::DateTime<chrono::Utc>) -> NewDocument,
{
    if fills.is_empty() {
        return Ok(Vec::new());
    }
    let issued_at = crate::now();
    let series = invoice::series(kind, issued_at);
    let first = documents::allocate_numbers(tx, &series, fills.len()).await?;
    let docs: Vec<NewDocument> = fills
        .into_iter()
        .zip(first..)
        .map(|(fill, seq)| {
            fill(
                series.clone(),
                seq,
                invoice::number(&series, seq),
                issued_at,
            )
        })
        .collect();
    documents::insert_all(tx, &docs).await?;
    let run_at = chrono::Utc::now();
    let jobs = docs
        .iter()
        .map(|doc| NewJob {
            tenant: tx.tenant(),
            kind: RENDER_JOB,
            subject: Some(doc.id.to_string()),
            payload: serde_json::json!({ "document_id": doc.id }),
            run_at,
            max_attempts: 10,
        })
        .collect();
    mercato_jobs::enqueue_all(&**tx, jobs).await?;
    Ok(docs.into_iter().map(|doc| doc.id).collect())
}

/// Issues the invoices of `sales`, vendor orders whose sales were posted now, numbered in
/// their order, in `tx`.
pub async fn issue_invoices(
    tx: &TenantTx,
    sales: &[(&OrderChanged, &VendorOrderMoney)],
) -> Result<Vec<DocumentId>, DbErr> {
    if sales.is_empty() {
        return Ok(Vec::new());
    }
    let sellers = sellers(tx, sales.iter().map(|(_, v)| v.vendor_id).collect()).await?;
    let fills = sales
        .iter()
        .map(|(order, v)| {
            let mut printed = invoice::invoice_print(v, order.invoice.as_ref());
            if let Some(seller) = sellers.get(&v.vendor_id) {
                printed.seller = seller.clone();
            }
            move |series, seq, number, issued_at| NewDocument {
                id: DocumentId::new(),
                kind: DocumentKind::Invoice,
                series,
                seq,
                number,
                source_key: invoice::invoice_key(v.vendor_order_id),
                order: Some(order.order_id),
                vendor_order: Some(v.vendor_order_id),
                payout: None,
                vendor: v.vendor_id,
                customer: order.customer_id,
                refund: None,
                invoice: None,
                currency: order.total.currency,
                amounts: Amounts::of_sale(v),
                printed,
                issued_at,
            }
        })
        .collect();
    issue_all(tx, DocumentKind::Invoice, fills).await
}

/// Whom customer invoices of `vendors`' sales name as seller (ADR 0043), by vendor: the
/// shop, with its legal details, when it sells in its own name; otherwise each vendor with
/// the legal details accounting knows (a vendor it knows none of keeps the name the order
/// gave).
async fn sellers(
    tx: &TenantTx,
    mut vendors: Vec<VendorId>,
) -> Result<HashMap<VendorId, PrintedParty>, DbErr> {
    if let Some(settings) = legal::settings(tx).await?
        && settings.sells_in_own_name
    {
        let shop = commission::party(&settings.legal);
        return Ok(vendors.into_iter().map(|v| (v, shop.clone())).collect());
    }
    vendors.sort_by_key(|v| v.as_uuid());
    vendors.dedup();
    Ok(legal::vendor_legal(tx, &vendors)
        .await?
        .iter()
        .map(|(vendor, details)| (*vendor, commission::party(details)))
        .collect())
}

/// Issues the shop's commission invoice for `payout` (ADR 0043), whose booking was posted
/// now, in `tx`: `printed` and `amounts` as `domain::commission` made them.
pub async fn issue_commission_invoice(
    tx: &TenantTx,
    payout: &PayoutChanged,
    printed: Printed,
    amounts: Amounts,
) -> Result<DocumentId, DbErr> {
    issue(
        tx,
        DocumentKind::Commission,
        |series, seq, number, issued_at| NewDocument {
            id: DocumentId::new(),
            kind: DocumentKind::Commission,
            series,
            seq,
            number,
            source_key: invoice::commission_key(payout.payout_id),
            order: None,
            vendor_order: None,
            payout: Some(payout.payout_id),
            vendor: payout.vendor_id,
            customer: None,
            refund: None,
            invoice: None,
            currency: payout.amount.currency,
            amounts,
            printed,
            issued_at,
        },
    )
    .await
}

/// Issues the shop's commission credit note to `sale`'s vendor for `refund` (ADR 0043):
/// `amounts` of the commission that commission invoice `invoice` (of `payout`) carried,
/// referring to it, in `tx`.
pub async fn issue_commission_credit_note(
    tx: &TenantTx,
    invoice: &StoredDocument,
    payout: mercato_payouts_api::PayoutId,
    refund: RefundId,
    sale: &Booked,
    amounts: Amounts,
) -> Result<DocumentId, DbErr> {
    let printed =
        invoice::credit_note_print(&invoice.printed, Some(&invoice.number), refund, &amounts);
    issue(
        tx,
        DocumentKind::CommissionCreditNote,
        |series, seq, number, issued_at| NewDocument {
            id: DocumentId::new(),
            kind: DocumentKind::CommissionCreditNote,
            series,
            seq,
            number,
            source_key: invoice::commission_credit_note_key(refund, sale.vendor_order),
            order: None,
            vendor_order: Some(sale.vendor_order),
            payout: Some(payout),
            vendor: sale.vendor,
            customer: None,
            refund: Some(refund),
            invoice: Some(invoice.id),
            currency: sale.currency,
            amounts,
            printed,
            issued_at,
        },
    )
    .await
}

/// Issues the credit note of `amount` refunded by `refund` of `sale` (as booked before the
/// refund), whose refund entry was posted now, in `tx`. It refers to the vendor order's
/// invoice; a sale booked before invoices existed has none, and its credit note shows the
/// booked money.
pub async fn issue_credit_note(
    tx: &TenantTx,
    order: OrderId,
    refund: RefundId,
    sale: &Booked,
    amount: i64,
) -> Result<DocumentId, DbErr> {
    let invoice = documents::find_by_key(tx, &invoice::invoice_key(sale.vendor_order)).await?;
    let parts = SaleParts {
        total: sale.total,
        tax: sale.tax,
        commission: sale.commission,
        discount_by_shop: sale.discount_by_shop,
    };
    let invoiced = invoice.as_ref().map_or(
        Amounts {
            net: sale.total - sale.tax,
            tax: sale.tax,
            shipping: 0,
            discount: sale.discount_by_shop,
            total: sale.total,
        },
        |i| i.amounts,
    );
    let amounts = invoiced
        .of_refund(parts, sale.refunded, amount)
        .ok_or_else(|| DbErr::Custom(format!("credit note of refund {refund}: overflow")))?;
    let printed = match &invoice {
        Some(i) => invoice::credit_note_print(&i.printed, Some(&i.number), refund, &amounts),
        None => invoice::credit_note_print(
            &Printed {
                seller: PrintedParty {
                    name: format!("Vendor {}", sale.vendor),
                    lines: Vec::new(),
                    tax_id: None,
                },
                buyer: None,
                buyer_email: None,
                prices_include_tax: false,
                lines: Vec::new(),
                refers_to: None,
                notes: Vec::new(),
            },
            None,
            refund,
            &amounts,
        ),
    };
    issue(
        tx,
        DocumentKind::CreditNote,
        |series, seq, number, issued_at| NewDocument {
            id: DocumentId::new(),
            kind: DocumentKind::CreditNote,
            series,
            seq,
            number,
            source_key: invoice::credit_note_key(refund, sale.vendor_order),
            order: Some(order),
            vendor_order: Some(sale.vendor_order),
            payout: None,
            vendor: sale.vendor,
            customer: invoice.as_ref().and_then(|i| i.customer),
            refund: Some(refund),
            invoice: invoice.as_ref().map(|i| i.id),
            currency: sale.currency,
            amounts,
            printed,
            issued_at,
        },
    )
    .await
}

/// `amount` minor units of `currency` as printed: `EUR 1,234.56` without the grouping.
pub fn format_money(amount: i64, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent());
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{} {abs}", currency.code());
    }
    let unit = 10u64.pow(exponent);
    format!(
        "{sign}{} {}.{:0width$}",
        currency.code(),
        abs / unit,
        abs % unit,
        width = exponent as usize
    )
}

/// The description `mercato_documents` renders for `doc`.
pub fn describe(doc: &StoredDocument) -> Document {
    let m = |amount: i64| format_money(amount, doc.currency);
    let p = &doc.printed;
    let party = |party: &PrintedParty| Party {
        name: party.name.clone(),
        lines: party.lines.clone(),
        tax_id: party.tax_id.clone(),
    };
    let mut meta = vec![
        ("Number".to_owned(), doc.number.clone()),
        (
            "Issued".to_owned(),
            doc.issued_at.format("%Y-%m-%d").to_string(),
        ),
    ];
    if let Some(order) = doc.order {
        meta.push(("Order".to_owned(), order.to_string()));
    }
    if let Some(vendor_order) = doc.vendor_order {
        meta.push(("Vendor order".to_owned(), vendor_order.to_string()));
    }
    if let Some(payout) = doc.payout {
        meta.push(("Payout".to_owned(), payout.to_string()));
    }
    if let Some(number) = &p.refers_to {
        meta.push(("Invoice".to_owned(), number.clone()));
    }
    let rows = p
        .lines
        .iter()
        .map(|l| {
            vec![
                l.title.clone(),
                l.sku.clone(),
                l.quantity.to_string(),
                m(l.unit_price),
                if l.tax_rate.is_empty() {
                    String::new()
                } else {
                    format!("{} %", l.tax_rate)
                },
                m(l.total),
            ]
        })
        .collect();
    let a = &doc.amounts;
    let mut totals = vec![Total::new("Net", m(a.net))];
    if a.discount != 0 {
        totals.push(Total::new("Discount included", m(a.discount)));
    }
    if a.shipping != 0 {
        totals.push(Total::new("Shipping included", m(a.shipping)));
    }
    totals.push(Total::new("Tax", m(a.tax)));
    totals.push(Total::strong("Total", m(a.total)));
    let mut notes = p.notes.clone();
    match doc.kind {
        DocumentKind::CreditNote => {
            notes.push("This credit note refunds the amount above to the original payment.".into())
        }
        DocumentKind::CommissionCreditNote => notes.push(
            "This credit note credits the commission above: the refund gave it back to the vendor."
                .into(),
        ),
        DocumentKind::Invoice | DocumentKind::Commission => {}
    }
    if p.prices_include_tax {
        notes.push("Prices include tax.".into());
    }
    Document {
        title: doc.kind.title().to_owned(),
        issuer: party(&p.seller),
        recipient: p.buyer.as_ref().map(party),
        meta,
        table: Table {
            columns: vec![
                Column::left("Item", 4.0),
                Column::left("SKU", 1.6),
                Column::right("Qty", 0.8),
                Column::right("Unit price", 1.6),
                Column::right("Tax", 0.9),
                Column::right("Amount", 1.6),
            ],
            rows,
        },
        totals,
        notes,
        ..Document::default()
    }
}

/// Runs the render jobs of documents as they are issued.
pub fn render_worker(state: &AccountingState) -> mercato_jobs::Worker {
    mercato_jobs::Worker::new(
        state.db.clone(),
        RENDER_JOB,
        Arc::new(RenderJob {
            db: state.db.clone(),
            storage: state.storage.clone(),
        }),
    )
    .poll_interval(Duration::from_millis(250))
    .backoff(Duration::from_secs(1), Duration::from_secs(300))
    .lease(Duration::from_secs(120))
}

/// Why a document could not be rendered and stored.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("reading or marking the document: {0}")]
    Db(#[from] DbErr),
    #[error("rendering the PDF: {0}")]
    Render(#[from] mercato_documents::DocumentError),
    #[error("storing the PDF: {0}")]
    Storage(#[from] mercato_storage::StorageError),
    #[error("the document's object key: {0}")]
    Key(#[from] mercato_storage::KeyError),
    #[error("the render task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Where `doc`'s PDF is stored.
pub fn object_key(
    tenant: mercato_tenant_context::TenantId,
    doc: &StoredDocument,
) -> Result<ObjectKey, mercato_storage::KeyError> {
    ObjectKey::new(
        tenant,
        Owner::Vendor(doc.vendor),
        AREA,
        &format!("{}.pdf", doc.number),
    )
}

/// Renders and stores `id`'s PDF and marks it rendered; nothing when it was already (a job
/// run twice stores the same bytes under the same key).
pub async fn render_document(
    db: &Db,
    storage: &Storage,
    tenant: mercato_tenant_context::TenantId,
    id: DocumentId,
) -> Result<bool, RenderError> {
    let tx = db.tenant_read(tenant).await?;
    let Some(doc) = documents::find(&tx, id).await? else {
        return Ok(false);
    };
    drop(tx);
    if doc.rendered {
        return Ok(false);
    }
    let description = describe(&doc);
    let pdf =
        tokio::task::spawn_blocking(move || mercato_documents::render(&description)).await??;
    let key = object_key(tenant, &doc)?;
    storage.put(&key, pdf, "application/pdf").await?;
    let tx = db.tenant_tx(tenant).await?;
    let marked = documents::mark_rendered(&tx, id, key.as_str()).await?;
    tx.commit().await?;
    Ok(marked)
}

struct RenderJob {
    db: Db,
    storage: Storage,
}

#[async_trait]
impl JobHandler for RenderJob {
    async fn run(&self, job: &Job) -> JobOutcome {
        let id = job
            .payload
            .get("document_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<DocumentId>().ok());
        let Some(id) = id else {
            return JobOutcome::Fail("the job names no document".to_owned());
        };
        match render_document(&self.db, &self.storage, job.tenant, id).await {
            Ok(_) => JobOutcome::Done,
            Err(error @ RenderError::Render(_)) | Err(error @ RenderError::Key(_)) => {
                tracing::error!(tenant_id = %job.tenant, document_id = %id, error = %error, "document cannot be rendered");
                JobOutcome::Fail(error.to_string())
            }
            Err(error) => {
                tracing::warn!(tenant_id = %job.tenant, document_id = %id, error = %error, "document rendering failed; retrying");
                JobOutcome::Retry(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_printed_in_the_currencys_minor_units() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(format_money(3_261, eur), "EUR 32.61");
        assert_eq!(format_money(-5, eur), "-EUR 0.05");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(format_money(1_200, jpy), "JPY 1200");
    }
}
