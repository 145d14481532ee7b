//! An order with everything shown about it: its payment attempts, refunds, returns and
//! history, read in as few statements as the caller's situation allows. `http::out` renders
//! one for the caller.

use crate::domain::OrderId;
use crate::domain::order::{FullOrder, Transition};
use crate::domain::payment::{Payment, Refund, Return};
use crate::repo::{orders, payments};
use mercato_db::TenantTx;
use sea_orm::DbErr;

/// An order and what it is shown with.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub full: FullOrder,
    pub payments: Vec<Payment>,
    pub refunds: Vec<Refund>,
    pub returns: Vec<Return>,
    pub history: Vec<Transition>,
}

/// The order `id` and its parts; `None` when the shop has no such order.
pub async fn read(tx: &TenantTx, id: OrderId) -> Result<Option<OrderRecord>, DbErr> {
    match orders::find(tx, id, false).await? {
        Some(full) => of(tx, full).await.map(Some),
        None => Ok(None),
    }
}

/// `full`'s parts, read.
pub async fn of(tx: &TenantTx, full: FullOrder) -> Result<OrderRecord, DbErr> {
    let payments = payments::of_order(tx, full.order.id).await?;
    with_payments(tx, full, payments, false).await
}

/// [`of`] for a caller that holds the order's payment attempts already (as they stand in
/// its transaction). `was_unpaid`: the caller locked the order still awaiting payment, so it
/// has neither refunds (they give back a payment the order had taken, or one that came
/// after it expired or was cancelled) nor returns (of delivered lines), and they are not
/// read; nor is the history when the order carries it (checkout wrote it).
pub async fn with_payments(
    tx: &TenantTx,
    full: FullOrder,
    payments: Vec<Payment>,
    was_unpaid: bool,
) -> Result<OrderRecord, DbErr> {
    let id = full.order.id;
    let (refunds, returns) = if was_unpaid {
        (Vec::new(), Vec::new())
    } else {
        (
            payments::refunds_of(tx, id, full.order.currency).await?,
            payments::returns_of(tx, id).await?,
        )
    };
    let history = match &full.history {
        Some(history) => history.clone(),
        None => orders::transitions(tx, id).await?,
    };
    Ok(OrderRecord {
        full,
        payments,
        refunds,
        returns,
        history,
    })
}

/// [`of`] for a page of orders, reading each part once for all of them: four statements,
/// however many orders the page holds.
pub async fn page(tx: &TenantTx, page: Vec<FullOrder>) -> Result<Vec<OrderRecord>, DbErr> {
    let ids: Vec<OrderId> = page.iter().map(|f| f.order.id).collect();
    let currencies: Vec<_> = page
        .iter()
        .map(|f| (f.order.id, f.order.currency))
        .collect();
    let mut attempts = payments::of_orders(tx, &ids).await?;
    let mut refunds = payments::refunds_of_orders(tx, &currencies).await?;
    let mut returns = payments::returns_of_orders(tx, &ids).await?;
    let mut history = orders::transitions_of(tx, &ids).await?;
    Ok(page
        .into_iter()
        .map(|full| {
            let id = full.order.id;
            OrderRecord {
                payments: attempts.remove(&id).unwrap_or_default(),
                refunds: refunds.remove(&id).unwrap_or_default(),
                returns: returns.remove(&id).unwrap_or_default(),
                history: history.remove(&id).unwrap_or_default(),
                full,
            }
        })
        .collect())
}
