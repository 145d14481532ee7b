//! Customer invoices and credit notes (ADR 0040): the list, one document, and its PDF once
//! the render job stored it. Merchant staff with `ledger:read` see all of the shop's; a
//! vendor's staff see their vendor's; a signed-in customer sees those of their own orders;
//! whoever holds an order's guest token (`X-Order-Token`) sees that order's invoices and
//! credit notes (ADR 0044). Anything else — another shop's, another vendor's, another
//! customer's, another order's — does not exist (404).

use crate::AccountingState;
use crate::domain::DocumentId;
use crate::domain::invoice::DocumentKind;
use crate::problems::AccountingProblem;
use crate::repo::documents::{self, StoredDocument, Visible};
use crate::repo::order_tokens;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mercato_kernel::http::{Json, Query};
use mercato_kernel::{ListQuery, ListResponse, Money, Problem};
use mercato_orders_api::{OrderId, RefundId, VendorOrderId};
use mercato_payouts_api::PayoutId;
use mercato_storage::ObjectKey;
use mercato_tenant_context::{Actor, Permission, TenantContext, UserId, VendorId};
use serde::{Deserialize, Serialize};

/// How long a client should wait before asking for a PDF still being rendered, in seconds.
pub const RETRY_AFTER_SECS: u64 = 2;

pub fn router() -> Router<AccountingState> {
    Router::new()
        .route("/api/v1/invoices", get(list))
        .route("/api/v1/invoices/{id}", get(get_one))
        .route("/api/v1/invoices/{id}/pdf", get(pdf))
}

/// The guest's order token the request carries, if any.
fn order_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(mercato_orders_api::token::HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
}

/// Whether the holder of `token` may read `doc`: a buyer's document (never a vendor's or
/// the shop's own) of the order the token is for, when accounting knows the order's hash.
async fn token_opens(
    tx: &mercato_db::TenantTx,
    doc: &StoredDocument,
    token: Option<&str>,
) -> Result<bool, Problem> {
    let (Some(token), Some(order)) = (token.filter(|_| for_the_buyer(doc.kind)), doc.order) else {
        return Ok(false);
    };
    Ok(order_tokens::opens(tx, order, token).await?)
}

/// The documents an order's buyer receives.
fn for_the_buyer(kind: DocumentKind) -> bool {
    matches!(kind, DocumentKind::Invoice | DocumentKind::CreditNote)
}

/// Whose documents the caller sees by who they are (`None`: an anonymous caller, who
/// sees only what an order token opens), or 403 for one who can see none (an API key
/// without `ledger:read`).
fn visible_to(ctx: &TenantContext) -> Result<Option<Visible>, Problem> {
    match visible(ctx) {
        Ok(v) => Ok(Some(v)),
        Err(_) if ctx.actor == Actor::Anonymous => Ok(None),
        Err(problem) => Err(problem),
    }
}

/// Whose documents the caller sees: 401 for an anonymous caller, 403 for one who can see
/// none (an API key without `ledger:read`).
fn visible(ctx: &TenantContext) -> Result<Visible, Problem> {
    if ctx.can(Permission::LedgerRead) {
        return Ok(Visible::All);
    }
    let vendors: Vec<VendorId> = ctx.vendors.iter().map(|m| m.vendor).collect();
    let customer: Option<UserId> = match ctx.actor {
        Actor::User(user) => Some(user),
        _ => None,
    };
    match (vendors.is_empty(), customer, ctx.actor) {
        (true, None, Actor::Anonymous) => Err(Problem::unauthorized("sign in to see invoices")),
        (true, None, _) => Err(Problem::forbidden(format!(
            "your role does not grant `{}`",
            Permission::LedgerRead.name()
        ))),
        _ => Ok(Visible::Of { vendors, customer }),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoicesQuery {
    /// `ord_…`: only the documents of this order.
    pub order_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A document as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceOut {
    pub id: DocumentId,
    /// Gapless per shop and series: `INV-2026-000001`, `CN-2026-000001`,
    /// `COM-2026-000001`, `CCN-2026-000001`.
    pub number: String,
    /// `invoice` and `credit_note` to a customer, `commission` and `commission_credit_note`
    /// (commission a refund gave back) from the shop to the vendor.
    pub kind: DocumentKind,
    pub vendor_id: VendorId,
    /// The order of an invoice or credit note; null on the shop's documents to a vendor.
    pub order_id: Option<OrderId>,
    /// The vendor order of an invoice, a credit note or a commission credit note.
    pub vendor_order_id: Option<VendorOrderId>,
    /// The payout a commission invoice is for (a commission credit note: the payout of the
    /// invoice it credits).
    pub payout_id: Option<PayoutId>,
    pub total: Money,
    /// `pending` until its PDF is rendered, then `rendered`.
    pub status: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
}

/// One printed line of a document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceLineOut {
    pub title: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: Money,
    /// A decimal percentage (`"19"`); empty when the line is a money breakdown.
    pub tax_rate: String,
    pub total: Money,
}

/// A document with its amounts, parties and lines.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvoiceDetailOut {
    #[serde(flatten)]
    pub summary: InvoiceOut,
    pub net: Money,
    pub tax: Money,
    /// The shipping in the total.
    pub shipping: Money,
    /// The discount off the total, whoever funds it.
    pub discount: Money,
    /// A credit note's refund and the invoice it credits.
    pub refund_id: Option<RefundId>,
    pub invoice_id: Option<DocumentId>,
    pub invoice_number: Option<String>,
    pub seller_name: String,
    pub seller_vat_id: Option<String>,
    pub buyer_name: Option<String>,
    pub buyer_vat_id: Option<String>,
    /// Notes the document carries, e.g. a commission invoice's reverse-charge note.
    pub notes: Vec<String>,
    pub lines: Vec<InvoiceLineOut>,
    pub rendered_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn summary(d: &StoredDocument) -> InvoiceOut {
    InvoiceOut {
        id: d.id,
        number: d.number.clone(),
        kind: d.kind,
        vendor_id: d.vendor,
        order_id: d.order,
        vendor_order_id: d.vendor_order,
        payout_id: d.payout,
        total: Money::new(d.amounts.total, d.currency),
        status: if d.rendered { "rendered" } else { "pending" }.to_owned(),
        issued_at: d.issued_at,
    }
}

fn detail(d: StoredDocument) -> InvoiceDetailOut {
    let m = |amount: i64| Money::new(amount, d.currency);
    InvoiceDetailOut {
        summary: summary(&d),
        net: m(d.amounts.net),
        tax: m(d.amounts.tax),
        shipping: m(d.amounts.shipping),
        discount: m(d.amounts.discount),
        refund_id: d.refund,
        invoice_id: d.invoice,
        invoice_number: d.printed.refers_to.clone(),
        seller_name: d.printed.seller.name.clone(),
        seller_vat_id: d.printed.seller.tax_id.clone(),
        buyer_name: d.printed.buyer.as_ref().map(|b| b.name.clone()),
        buyer_vat_id: d.printed.buyer.as_ref().and_then(|b| b.tax_id.clone()),
        notes: d.printed.notes.clone(),
        lines: d
            .printed
            .lines
            .iter()
            .map(|l| InvoiceLineOut {
                title: l.title.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: m(l.unit_price),
                tax_rate: l.tax_rate.clone(),
                total: m(l.total),
            })
            .collect(),
        rendered_at: d.rendered_at,
    }
}

/// The invoices and credit notes the caller may see, oldest first. A guest lists those of
/// its order with `order_id` and the order's token in `X-Order-Token`.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices",
    params(InvoicesQuery,
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token: with `order_id`, that order's invoices and credit notes")),
    responses((status = 200, body = ListResponse<InvoiceOut>),
        (status = 401, description = "Not signed in, and no `order_id`"),
        (status = 403, description = "An API key without `ledger:read`"),
        (status = 404, description = "Not signed in, and no token of the order `order_id`"),
        (status = 422, description = "A malformed order id or cursor")))]
pub async fn list(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    headers: HeaderMap,
    query: Result<Query<InvoicesQuery>, Problem>,
) -> Result<Json<ListResponse<InvoiceOut>>, Problem> {
    let Query(query) = query?;
    let visible = if query.order_id.is_some() {
        visible_to(&ctx)?
    } else {
        Some(visible(&ctx)?)
    };
    let (limit, after) = ListQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page::<DocumentId>()?;
    let order = match query.order_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<OrderId>()
                .map_err(|_| Problem::invalid_field("/order_id", "an order id (`ord_…`)"))?,
        ),
    };
    let tx = state.db.tenant_read(ctx.tenant).await?;
    // A token of the order asked for opens all its buyer's documents, beside what the
    // caller sees anyway (a subset of them).
    let opened = match (order, order_token(&headers)) {
        (Some(order), Some(token)) => order_tokens::opens(&tx, order, token).await?,
        _ => false,
    };
    let reading = match (opened, &visible) {
        (true, _) => &Visible::All,
        (false, Some(visible)) => visible,
        (false, None) => return Err(Problem::not_found()),
    };
    let rows = documents::list(&tx, reading, order, after, limit + 1).await?;
    let page = ListResponse::from_overfetch(rows, limit, |d| d.id.to_string());
    Ok(Json(ListResponse {
        data: page
            .data
            .iter()
            .filter(|d| {
                !opened || for_the_buyer(d.kind) || visible.as_ref().is_some_and(|v| v.sees(d))
            })
            .map(summary)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The document `id` when the caller may see it, by who they are or by the order token
/// they hold; 404 otherwise.
async fn visible_document(
    state: &AccountingState,
    ctx: &TenantContext,
    headers: &HeaderMap,
    id: &str,
) -> Result<StoredDocument, Problem> {
    let visible = visible_to(ctx)?;
    let id: DocumentId = id.parse().map_err(|_| Problem::not_found())?;
    let tx = state.db.tenant_read(ctx.tenant).await?;
    let doc = documents::find(&tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    if visible.is_some_and(|v| v.sees(&doc)) || token_opens(&tx, &doc, order_token(headers)).await?
    {
        Ok(doc)
    } else {
        Err(Problem::not_found())
    }
}

/// One invoice or credit note, with its amounts, parties and lines.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "`doc_…`"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token: opens that order's invoices and credit notes")),
    responses((status = 200, body = InvoiceDetailOut),
        (status = 403, description = "An API key without `ledger:read`"),
        (status = 404, description = "No such document the caller may see")))]
pub async fn get_one(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<InvoiceDetailOut>, Problem> {
    Ok(Json(detail(
        visible_document(&state, &ctx, &headers, &id).await?,
    )))
}

/// The document's PDF once the render job stored it; until then 202 with `Retry-After`
/// (`document_not_rendered`).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", tag = "invoices",
    params(("id" = String, Path, description = "`doc_…`"),
        ("X-Order-Token" = Option<String>, Header, description = "A guest's order token: opens that order's invoices and credit notes")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>, description = "The PDF"),
        (status = 202, description = "`document_not_rendered`: still being rendered; ask again after `Retry-After` seconds"),
        (status = 403, description = "An API key without `ledger:read`"),
        (status = 404, description = "No such document the caller may see")))]
pub async fn pdf(
    State(state): State<AccountingState>,
    ctx: TenantContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let doc = visible_document(&state, &ctx, &headers, &id).await?;
    let Some(stored) = doc.object_key.as_deref().filter(|_| doc.rendered) else {
        return Err(Problem::of(
            AccountingProblem::DocumentNotRendered,
            format!("{} is being rendered", doc.number),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS)));
    };
    let key = ObjectKey::parse(ctx.tenant, stored).map_err(Problem::internal)?;
    let object = state
        .storage
        .get(&key)
        .await
        .map_err(|e| e.into_problem())?;
    let disposition = format!("inline; filename=\"{}.pdf\"", doc.number);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        object.bytes,
    )
        .into_response())
}
