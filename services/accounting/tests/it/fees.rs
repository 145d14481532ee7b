//! Payment fees into the ledger (ADR 0045): orders' `payment.fee_reported` books the fee
//! once, Dr 5200 / Cr 1100, whatever is delivered again; imported balance transactions are
//! kept once.

use crate::on_every_backend;
use crate::support::{Service, eur};
use mercato_accounting::provider_fees::ProviderPostings;
use mercato_events::{Envelope, Handler};
use mercato_kernel::Money;
use mercato_orders_api::events::{
    PAYMENT_BALANCE_IMPORTED, PAYMENT_FEE_REPORTED, PaymentFeeReported, ProviderBalanceImported,
    ProviderBalanceTransaction,
};
use mercato_orders_api::{OrderId, PaymentId};
use mercato_tenant_context::TenantId;

on_every_backend!(a_fee_is_booked_once_whatever_is_delivered_again);

fn charge(order: OrderId, amount: i64, fee: i64) -> ProviderBalanceTransaction {
    ProviderBalanceTransaction {
        id: format!("txn_test_{}", uuid::Uuid::now_v7().simple()),
        kind: "charge".into(),
        source: "pi_test_1".into(),
        reference: order.to_string(),
        amount: Money::new(amount, eur()),
        fee,
        net: amount - fee,
        created: chrono::Utc::now().timestamp(),
    }
}

async fn a_fee_is_booked_once_whatever_is_delivered_again(service: Service) {
    let shop = TenantId::new();
    let order = OrderId::new();
    let payment = PaymentId::new();
    let reported = PaymentFeeReported {
        order_id: order,
        payment_id: payment,
        provider: "test".into(),
        provider_ref: "pi_test_1".into(),
        charge: charge(order, 10_000, 175),
    };
    let consumer = ProviderPostings(service.state.clone());
    let event = Envelope::new(PAYMENT_FEE_REPORTED, 1, shop, &reported).unwrap();
    consumer.handle(&event).await.unwrap();
    // Redelivered, and reported again in another event (a job that published twice).
    consumer.handle(&event).await.unwrap();
    let again = Envelope::new(PAYMENT_FEE_REPORTED, 1, shop, &reported).unwrap();
    consumer.handle(&again).await.unwrap();
    // The same charge in an import is kept once too.
    let import = ProviderBalanceImported {
        provider: "test".into(),
        transactions: vec![reported.charge.clone()],
    };
    consumer
        .handle(&Envelope::new(PAYMENT_BALANCE_IMPORTED, 1, shop, &import).unwrap())
        .await
        .unwrap();

    let (accounts, debit, credit) = service.trial_balance(shop).await;
    assert_eq!(
        accounts,
        vec![("1100".to_owned(), 0, 175), ("5200".to_owned(), 175, 0)]
    );
    assert_eq!((debit, credit), (175, 175));
    // The charge is kept once for the reconciliation, in this shop only.
    let day = chrono::Duration::days(1);
    let (start, end) = (chrono::Utc::now() - day, chrono::Utc::now() + day);
    let kept = |tenant| {
        let db = service.state.db.clone();
        async move {
            let tx = db.tenant_read(tenant).await.unwrap();
            mercato_accounting::repo::reconciliation::provider_moves(&tx, eur(), start, end)
                .await
                .unwrap()
        }
    };
    let moves = kept(shop).await;
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(
        (moves[0].id.as_str(), moves[0].amount, moves[0].fee),
        (reported.charge.id.as_str(), 10_000, 175)
    );
    assert!(kept(TenantId::new()).await.is_empty());

    // A fee of nothing books nothing.
    let free = PaymentFeeReported {
        payment_id: PaymentId::new(),
        charge: charge(order, 500, 0),
        ..reported
    };
    consumer
        .handle(&Envelope::new(PAYMENT_FEE_REPORTED, 1, shop, &free).unwrap())
        .await
        .unwrap();
    let (_, debit, _) = service.trial_balance(shop).await;
    assert_eq!(debit, 175);
}
