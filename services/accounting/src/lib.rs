//! The accounting service keeps a double-entry ledger per shop and currency (ADR 0038): a
//! chart of accounts created with the shop's first booking in a currency, journal entries
//! whose debits equal their credits (checked by the code and again by the database when an
//! entry is posted), immutable once posted, each linked to the event that caused it.
//!
//! It consumes orders' `order.paid` and `refund.completed` (`events`) and books them once
//! each by the rules of `domain::posting`. It serves the trial balance and the journal to
//! merchant staff with `ledger:read`.
//!
//! With each sale and refund share it books, it issues the customer's invoice or credit note
//! (`invoicing`, ADR 0040), numbered without gaps per shop and series, and renders its PDF in
//! a job (`invoicing::render_worker`) into object storage; `/api/v1/invoices` serves them to
//! merchant staff, the vendor's staff and the customer who bought.
//!
//! When payouts' `payout.paid` is booked (`payouts`), it issues the shop's commission
//! invoice to the vendor for the vendor orders the payout covers (`commission`, ADR 0043,
//! series `COM-YYYY`) and moves the VAT inside the commission to tax payable, with reverse
//! charge for a vendor with a VAT id in another EU member state. For that it mirrors vendors'
//! legal details and the shop's tax rates (`mirrors`), and keeps the shop's invoice settings
//! (`/api/v1/invoice-settings`: its legal details, and whether it sells in its own name,
//! which makes it the seller on customer invoices).
//!
//! It books the fee the payment provider reports on each payment (orders'
//! `payment.fee_reported`, `provider_fees`) and keeps the providers' balance transactions
//! orders imports (`payment.balance_imported`), against which it reconciles the clearing
//! account (ADR 0045).
//!
//! Merchant staff with `ledger:write` record the shop's expenses (`expenses`, ADR 0042):
//! each posts one balanced entry (net to its category, VAT to input VAT, gross out of the
//! bank) and may carry a receipt kept in object storage; a correction is a reversal, never
//! an edit. From the journal it serves period reports: profit and loss beside the previous
//! period, the VAT summary, and each vendor's account statement.

pub mod commission;
pub mod domain;
pub mod events;
pub mod expenses;
pub mod http;
pub mod invoicing;
pub mod mirrors;
pub mod payouts;
pub mod problems;
pub mod provider_fees;
pub mod repo;
pub mod retention;

use axum::Router;
use mercato_db::Db;
use mercato_events::Subscription;
use std::sync::Arc;

/// Cheap handles shared by the handlers and the consumer.
#[derive(Clone)]
pub struct AccountingState {
    pub db: Db,
    /// Where the documents' PDFs are kept.
    pub storage: mercato_storage::Storage,
}

/// The current instant as the database keeps it (microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

pub async fn migrate(db: &Db) -> Result<(), sea_orm::DbErr> {
    mercato_db::migrate(db, "accounting", repo::MIGRATIONS).await
}

pub fn router(state: AccountingState) -> Router {
    http::router().with_state(state)
}

/// The events this service consumes.
pub fn subscriptions(state: &AccountingState) -> Vec<Subscription> {
    let mut subscriptions = mirrors::subscriptions(&state.db);
    subscriptions.extend([
        Subscription {
            consumer: events::ORDER_POSTINGS,
            patterns: events::ORDER_POSTINGS_PATTERNS,
            handler: Arc::new(events::OrderPostings(state.clone())),
        },
        Subscription {
            consumer: provider_fees::PROVIDER_POSTINGS,
            patterns: provider_fees::PROVIDER_POSTINGS_PATTERNS,
            handler: Arc::new(provider_fees::ProviderPostings(state.clone())),
        },
        Subscription {
            consumer: payouts::PAYOUT_POSTINGS,
            patterns: payouts::PAYOUT_POSTINGS_PATTERNS,
            handler: Arc::new(payouts::PayoutPostings(state.clone())),
        },
    ]);
    subscriptions
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        http::trial_balance,
        http::entries,
        http::invoices::list,
        http::invoices::get_one,
        http::invoices::pdf,
        http::settings::show,
        http::settings::replace,
        http::expenses::create,
        http::expenses::list,
        http::expenses::show,
        http::expenses::reverse,
        http::expenses::upload_receipt,
        http::expenses::download_receipt,
        http::reports::profit_and_loss,
        http::reports::vat_summary,
        http::reports::vendor_statement,
        http::reconciliation::reconciliation
    ),
    tags(
        (name = "accounting", description = "The shop's double-entry ledger: trial balance and journal, for merchant staff with `ledger:read`"),
        (name = "expenses", description = "The shop's expenses: merchant staff with `ledger:write` record them (each posts a balanced entry), attach receipts and reverse them; `ledger:read` reads them"),
        (name = "invoices", description = "Customer invoices and credit notes per vendor order, and the shop's commission invoices to vendors per payout: merchant staff with `ledger:read` see the shop's, a vendor's staff their vendor's, a customer those of their own orders; merchant staff keep the shop's invoice settings")
    )
)]
pub struct ApiDoc;

/// The workers this service runs: the documents' renderer and the retention sweep.
pub fn workers(
    state: &AccountingState,
    shutdown: tokio_util::sync::CancellationToken,
) -> Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>> {
    vec![
        Box::pin(invoicing::render_worker(state).run(shutdown.clone())),
        Box::pin(retention::worker(state.db.clone(), shutdown)),
    ]
}
