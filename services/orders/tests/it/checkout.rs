//! Checkout splits a cart into one vendor order per vendor, each with the commission of the
//! rule orders mirrored from vendors, and announces the order with the contract payload of
//! `order.placed`. When inventory cannot hold every line, nothing is ordered and the cart
//! stays as it was.

use crate::on_every_backend;
use crate::support::{Caller, Service, eur};
use mercato_orders_api::events::{ORDER_PLACED, OrderPlaced};
use mercato_orders_api::lifecycle::OrderStatus;
use mercato_tenant_context::{Actor, ServiceName, TenantId};
use mercato_vendors_api::vendor::VendorStatus;
use serde_json::{Value, json};

async fn checkout_splits_by_vendor_with_the_mirrored_commission(s: Service) {
    let shop = TenantId::new();
    let tea_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let pot_vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, tea_vendor, "Sencha", 1250, 10).await;
    let pot = s.list(shop, pot_vendor, "Kyusu", 999, 3).await;
    // The shop takes 12.5 %; the tea vendor has a rule of its own (which wins): 10 % + 0.30.
    s.commission_rule(shop, None, Some("12.5"), None).await;
    s.commission_rule(shop, Some(tea_vendor), Some("10"), Some(30))
        .await;
    let shopper = Caller::shopper(shop);
    let cart = s
        .cart(&shopper, &[(tea.variant, 2), (pot.variant, 1)])
        .await;

    let placed = s.checkout(&shopper, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = placed.str("id");
    assert_eq!(placed.str("status"), "paid", "{:?}", placed.body);
    assert_eq!(placed.body["total"]["amount"], 2 * 1250 + 999);
    // The shopper sees the split, never the commission.
    assert_eq!(
        placed.body["vendor_orders"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(placed.body["vendor_orders"][0].get("commission").is_none());

    // Merchant staff see each vendor's part: 2500 with 250 + 30 for tea, 999 with
    // 124.875 (rounded half up) for the pot; earnings are the rest.
    let read = s
        .get(&Caller::merchant(shop), &format!("/api/v1/orders/{order}"))
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let parts = read.body["vendor_orders"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(parts.len(), 2, "{:?}", read.body);
    let part = |vendor: String| -> Value {
        parts
            .iter()
            .find(|p| p["vendor_id"] == vendor.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no vendor order of {vendor}: {parts:?}"))
    };
    let expected = [
        (tea_vendor, tea.variant, 2, 2500, 280),
        (pot_vendor, pot.variant, 1, 999, 125),
    ];
    for (vendor, variant, quantity, total, commission) in expected {
        let p = part(vendor.to_string());
        assert_eq!(p["total"]["amount"], total, "{p}");
        assert_eq!(p["commission"]["amount"], commission, "{p}");
        assert_eq!(p["earnings"]["amount"], total - commission, "{p}");
        let lines = p["lines"].as_array().cloned().unwrap_or_default();
        assert_eq!(lines.len(), 1, "{p}");
        assert_eq!(lines[0]["variant_id"], variant.to_string());
        assert_eq!(lines[0]["quantity"], quantity);
        assert_eq!(lines[0]["unit_price"], json!(eur(total / quantity)));
        assert_eq!(lines[0]["commission"]["amount"], commission);
    }

    // `order.placed` is the contract's payload, with the same split and the reservation
    // inventory made for it.
    let events = s.events_named(shop, ORDER_PLACED).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event: OrderPlaced = serde_json::from_value(events[0].clone()).expect("an OrderPlaced");
    let held = s.inventory.reservations(shop);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].actor, Actor::Service(ServiceName::Orders));
    assert_eq!(held[0].reference.as_deref(), Some(order.as_str()));
    assert_eq!(held[0].lines, [(tea.variant, 2), (pot.variant, 1)]);
    assert_eq!(event.order_id.to_string(), order);
    assert_eq!(event.status, OrderStatus::PendingPayment);
    assert_eq!(event.reservation_id, Some(held[0].id));
    assert_eq!(event.total, eur(3499));
    assert_eq!(event.actor, shopper.actor.label());
    let Actor::User(customer) = shopper.actor else {
        unreachable!("a shopper is a user")
    };
    assert_eq!(event.customer_id, Some(customer));
    let mut announced: Vec<_> = event
        .vendor_orders
        .iter()
        .map(|v| {
            (
                v.vendor_order_id.to_string(),
                v.vendor_id,
                v.total,
                v.commission,
                v.earnings,
            )
        })
        .collect();
    announced.sort_by_key(|a| a.0.clone());
    let mut stored: Vec<_> = expected
        .iter()
        .map(|&(vendor, _, _, total, commission)| {
            let id = part(vendor.to_string())["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (
                id,
                vendor,
                eur(total),
                eur(commission),
                eur(total - commission),
            )
        })
        .collect();
    stored.sort_by_key(|a| a.0.clone());
    assert_eq!(announced, stored);
}

async fn a_shortage_in_inventory_orders_nothing_and_keeps_the_cart(s: Service) {
    let shop = TenantId::new();
    let vendor = s.vendor(shop, VendorStatus::Approved).await;
    let tea = s.list(shop, vendor, "Sencha", 1250, 10).await;
    let pot = s.list(shop, vendor, "Kyusu", 3900, 5).await;
    // Most pots were sold elsewhere; orders' stock mirror has not heard yet.
    s.inventory.set_on_hand(shop, pot.variant, 1);
    let shopper = Caller::shopper(shop);
    let cart = s
        .cart(&shopper, &[(tea.variant, 2), (pot.variant, 3)])
        .await;
    let path = format!("/api/v1/carts/{cart}");
    let before = s.get(&shopper, &path).await;
    assert_eq!(before.body["ready_for_checkout"], true, "{:?}", before.body);

    let refused = s.checkout(&shopper, &cart, "checkout-1").await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.code(), "insufficient_stock");
    assert_eq!(
        refused.errors(),
        [(
            "/lines/1/quantity".to_owned(),
            format!("1 of 3 requested available for {}", pot.variant)
        )]
    );

    // No order, no event, nothing held, and the cart is still open as it was.
    let merchant = Caller::merchant(shop);
    let orders = s.get(&merchant, "/api/v1/orders").await;
    assert_eq!(orders.status, 200, "{:?}", orders.body);
    assert_eq!(orders.body["data"], json!([]));
    let parts = s.get(&merchant, "/api/v1/vendor-orders").await;
    assert_eq!(parts.body["data"], json!([]));
    assert!(s.events_named(shop, ORDER_PLACED).await.is_empty());
    assert!(s.inventory.reservations(shop).is_empty());
    assert_eq!(s.inventory.available(shop, tea.variant), 10);
    let after = s.get(&shopper, &path).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.str("status"), "open");

    // Once inventory has the pots, the same cart checks out with the same key.
    s.inventory.set_on_hand(shop, pot.variant, 5);
    let placed = s.checkout(&shopper, &cart, "checkout-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    assert_eq!(placed.body["total"]["amount"], 2 * 1250 + 3 * 3900);
    assert_eq!(s.inventory.available(shop, pot.variant), 2);
}

on_every_backend!(
    checkout_splits_by_vendor_with_the_mirrored_commission,
    a_shortage_in_inventory_orders_nothing_and_keeps_the_cart,
);
