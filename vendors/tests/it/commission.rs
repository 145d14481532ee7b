//! Commission rule events carry what another service needs to keep its own copy of the
//! rules: the whole rule when created, its id when deleted.

use crate::on_every_backend;
use crate::support::{Caller, Service};
use mercato_tenant_context::TenantId;
use mercato_vendors::domain::commission::{CommissionRule, Level};
use mercato_vendors::events::CommissionRuleSnapshot;
use serde_json::json;

async fn rule_events_read_back_as_rules(service: Service) {
    let shop = TenantId::new();
    let merchant = Caller::merchant(shop);
    let vendor = service.apply(&Caller::customer(shop), "Nordic Tea").await;
    let created = service
        .post(
            &merchant,
            "/api/v1/commission-rules",
            json!({
                "vendor_id": vendor, "percent": "12.5",
                "fixed_fee": { "amount": 30, "currency": "EUR" },
                "limits": [{ "currency": "EUR", "min": 50 }],
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.str("id");
    let events = service.events_named(shop, "commission_rule.created").await;
    assert_eq!(events.len(), 1);
    let snapshot: CommissionRuleSnapshot =
        serde_json::from_value(events[0].clone()).expect("a rule snapshot");
    assert_eq!(snapshot.actor, merchant.actor.label());
    let rule = CommissionRule::try_from(snapshot).expect("a rule");
    assert_eq!(rule.id.to_string(), id);
    assert_eq!(rule.vendor, Some(vendor));
    assert_eq!(rule.level(), Level::Vendor);
    assert_eq!(rule.percent.map(|p| p.to_string()).as_deref(), Some("12.5"));
    assert_eq!(rule.fixed_fee.map(|f| f.amount), Some(30));
    assert_eq!(rule.limits[0].min, Some(50));
    // What the event says is what the API says.
    let shown = service
        .get(&merchant, &format!("/api/v1/commission-rules/{id}"))
        .await;
    assert_eq!(shown.status, 200);
    for field in [
        "valid_from",
        "created_at",
        "created_by",
        "percent",
        "fixed_fee",
    ] {
        assert_eq!(events[0][field], shown.body[field], "{field}");
    }

    let deleted = service
        .call(
            &merchant,
            "DELETE",
            &format!("/api/v1/commission-rules/{id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let gone = service.events_named(shop, "commission_rule.deleted").await;
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0]["id"], id.as_str());
}

on_every_backend!(rule_events_read_back_as_rules);
