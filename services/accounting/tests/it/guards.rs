//! The database keeps the books straight even against code that would not: an entry is
//! posted only when its debits equal its credits, and nothing posted changes or goes.

use crate::on_every_backend;
use crate::support::{Service, eur, paid, vendor_order};
use mercato_orders_api::OrderId;
use mercato_tenant_context::{TenantId, VendorId};
use sea_orm::{ConnectionTrait, Statement};

on_every_backend!(
    a_posted_entry_and_its_lines_cannot_change_or_go,
    an_unbalanced_entry_cannot_be_posted,
);

async fn run(service: &Service, shop: TenantId, sql: &str) -> Result<(), String> {
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    let backend = tx.get_database_backend();
    let done = tx
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [shop.as_uuid().into()],
        ))
        .await;
    match done {
        Ok(_) => tx.commit().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn a_posted_entry_and_its_lines_cannot_change_or_go(service: Service) {
    let shop = TenantId::new();
    service
        .deliver(&paid(
            shop,
            OrderId::new(),
            &[vendor_order(VendorId::new(), 1_000, 100, 100, 0)],
        ))
        .await
        .unwrap();
    let before = service.trial_balance(shop).await;
    for sql in [
        "UPDATE journal_lines SET debit = debit + 1 WHERE tenant_id = $1 AND debit > 0",
        "DELETE FROM journal_lines WHERE tenant_id = $1",
        "UPDATE journal_entries SET memo = 'changed' WHERE tenant_id = $1",
        "UPDATE journal_entries SET posted = FALSE WHERE tenant_id = $1",
        "DELETE FROM journal_entries WHERE tenant_id = $1",
    ] {
        let refused = run(&service, shop, sql).await.expect_err(sql);
        assert!(
            refused.contains("never")
                || refused.contains("cannot change")
                || refused.contains("posted"),
            "{sql}: {refused}"
        );
    }
    assert_eq!(service.trial_balance(shop).await, before);
}

async fn an_unbalanced_entry_cannot_be_posted(service: Service) {
    let shop = TenantId::new();
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    mercato_accounting::repo::ensure_chart(&tx, eur())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let entry = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    let backend = tx.get_database_backend();
    let exec = |sql: &str, values: Vec<sea_orm::Value>| {
        Statement::from_sql_and_values(backend, sql, values)
    };
    tx.execute_raw(exec(
        "INSERT INTO journal_entries (tenant_id, id, entry_key, kind, currency, memo, total, \
         posted, occurred_at, posted_at) VALUES ($1, $2, 'hand', 'sale', 'EUR', 'by hand', 100, \
         FALSE, $3, $3)",
        vec![shop.as_uuid().into(), entry.into(), now.into()],
    ))
    .await
    .unwrap();
    tx.execute_raw(exec(
        "INSERT INTO journal_lines (tenant_id, entry_id, line_no, currency, account_code, \
         vendor_id, debit, credit) VALUES ($1, $2, 0, 'EUR', '1100', NULL, 100, 0), \
         ($1, $2, 1, 'EUR', '4100', NULL, 0, 90)",
        vec![shop.as_uuid().into(), entry.into()],
    ))
    .await
    .unwrap();
    let posted = tx
        .execute_raw(exec(
            "UPDATE journal_entries SET posted = TRUE WHERE tenant_id = $1 AND id = $2",
            vec![shop.as_uuid().into(), entry.into()],
        ))
        .await;
    let refused = posted
        .expect_err("an unbalanced entry was posted")
        .to_string();
    assert!(refused.contains("balance"), "{refused}");
    drop(tx);

    // A line may not name a vendor on any account but the vendors' payables, and must on it.
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    let vendorless = tx
        .execute_raw(exec(
            "INSERT INTO journal_entries (tenant_id, id, entry_key, kind, currency, memo, total, \
             posted, occurred_at, posted_at) VALUES ($1, $2, 'hand-2', 'sale', 'EUR', 'by hand', \
             100, FALSE, $3, $3)",
            vec![shop.as_uuid().into(), entry.into(), now.into()],
        ))
        .await;
    assert!(vendorless.is_ok());
    let line = tx
        .execute_raw(exec(
            "INSERT INTO journal_lines (tenant_id, entry_id, line_no, currency, account_code, \
             vendor_id, debit, credit) VALUES ($1, $2, 0, 'EUR', '2100', NULL, 0, 100)",
            vec![shop.as_uuid().into(), entry.into()],
        ))
        .await;
    assert!(line.is_err());
    drop(tx);

    // An entry written and left unposted does not commit on PostgreSQL (the check is
    // deferred to the commit); on SQLite it stays out of every balance.
    let tx = service.state.db.tenant_tx(shop).await.unwrap();
    tx.execute_raw(exec(
        "INSERT INTO journal_entries (tenant_id, id, entry_key, kind, currency, memo, total, \
         posted, occurred_at, posted_at) VALUES ($1, $2, 'hand-3', 'sale', 'EUR', 'by hand', 100, \
         FALSE, $3, $3)",
        vec![
            shop.as_uuid().into(),
            uuid::Uuid::now_v7().into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    let committed = tx.commit().await;
    if backend == sea_orm::DbBackend::Postgres {
        let refused = committed
            .expect_err("an unposted entry was committed")
            .to_string();
        assert!(refused.contains("not posted"), "{refused}");
    }
    let (accounts, debit, credit) = service.trial_balance(shop).await;
    assert!(accounts.is_empty(), "{accounts:?}");
    assert_eq!((debit, credit), (0, 0));
}
