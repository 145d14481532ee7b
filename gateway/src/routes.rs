//! Which service owns which path. Paths under `/internal` are never routed from outside.

pub const SERVICES: &[&str] = &[
    "tenants",
    "identity",
    "vendors",
    "catalog",
    "inventory",
    "orders",
    "accounting",
    "payouts",
];

/// Path prefixes, most specific first, and the service that owns them.
const TABLE: &[(&str, &str)] = &[
    ("/api/v1/auth", "identity"),
    ("/api/v1/staff", "identity"),
    ("/api/v1/api-keys", "identity"),
    ("/api/v1/vendor-staff", "identity"),
    ("/api/v1/admin/shops", "tenants"),
    ("/api/v1/shop", "tenants"),
    ("/api/v1/vendors/*/balance", "payouts"),
    ("/api/v1/vendors", "vendors"),
    ("/api/v1/vendor-checklist", "vendors"),
    ("/api/v1/commission-rules", "vendors"),
    ("/api/v1/commission", "vendors"),
    ("/api/v1/products", "catalog"),
    ("/api/v1/categories", "catalog"),
    ("/api/v1/attributes", "catalog"),
    ("/api/v1/search", "catalog"),
    ("/api/v1/catalog", "catalog"),
    ("/api/v1/warehouses", "inventory"),
    ("/api/v1/stock", "inventory"),
    ("/api/v1/reservations", "inventory"),
    ("/api/v1/carts", "orders"),
    ("/api/v1/checkout", "orders"),
    ("/api/v1/orders", "orders"),
    ("/api/v1/vendor-orders", "orders"),
    ("/api/v1/returns", "orders"),
    ("/api/v1/coupons", "orders"),
    ("/api/v1/tax-rates", "orders"),
    ("/api/v1/order-settings", "orders"),
    ("/api/v1/payments", "orders"),
    ("/api/v1/ledger", "accounting"),
    ("/api/v1/payouts", "payouts"),
    ("/api/v1/invoices", "accounting"),
    ("/api/v1/invoice-settings", "accounting"),
    ("/api/v1/expenses", "accounting"),
];

/// The service owning `path`, matched on whole segments (`/api/v1/shopping` is not
/// `/api/v1/shop`); a `*` segment of a prefix matches any one segment.
pub fn service_for(path: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(prefix, _)| matches_prefix(path, prefix))
        .map(|(_, s)| *s)
}

fn matches_prefix(path: &str, prefix: &str) -> bool {
    let mut segments = path.split('/');
    for wanted in prefix.split('/') {
        match segments.next() {
            Some(segment) if segment == wanted || (wanted == "*" && !segment.is_empty()) => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_whole_segments() {
        assert_eq!(service_for("/api/v1/auth/login"), Some("identity"));
        assert_eq!(service_for("/api/v1/shop"), Some("tenants"));
        assert_eq!(service_for("/api/v1/shop/domains/dom_x"), Some("tenants"));
        assert_eq!(service_for("/api/v1/shopping"), None);
        assert_eq!(
            service_for("/api/v1/vendors/ven_x/balance"),
            Some("payouts")
        );
        assert_eq!(
            service_for("/api/v1/vendors/ven_x/balances"),
            Some("vendors")
        );
        assert_eq!(service_for("/api/v1/vendors//balance"), Some("vendors"));
        assert_eq!(service_for("/api/v1/payouts/runs"), Some("payouts"));
        assert_eq!(
            service_for("/api/v1/expenses/exp_x/receipt"),
            Some("accounting")
        );
        assert_eq!(service_for("/api/v1/staff"), Some("identity"));
        assert_eq!(
            service_for("/api/v1/staff/invitations/inv_x"),
            Some("identity")
        );
        assert_eq!(service_for("/api/v1/api-keys"), Some("identity"));
        assert_eq!(service_for("/api/v1/api-keys/key_x"), Some("identity"));
        assert_eq!(service_for("/api/v1/staffing"), None);
        assert_eq!(service_for("/internal/v1/api-keys/verify"), None);
        assert_eq!(service_for("/internal/v1/resolve"), None);
        assert_eq!(service_for("/"), None);
        assert_eq!(
            service_for("/api/v1/vendors/ven_x/checklist"),
            Some("vendors")
        );
        assert_eq!(service_for("/api/v1/commission/quote"), Some("vendors"));
        assert_eq!(service_for("/api/v1/vendorsx"), None);
        assert_eq!(service_for("/api/v1/orders/ord_x/refunds"), Some("orders"));
        assert_eq!(service_for("/api/v1/vendor-orders"), Some("orders"));
        assert_eq!(
            service_for("/api/v1/payments/webhooks/test"),
            Some("orders")
        );
    }
}
