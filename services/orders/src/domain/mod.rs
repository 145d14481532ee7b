//! What buying is made of (carts, orders, payments, refunds, returns) and its rules, free of
//! storage and HTTP; the rules are unit- and property-tested without a database.

mercato_kernel::typed_id!(
    /// A shopper's cart; its id is the guest's handle on it.
    pub CartId, "crt"
);
mercato_kernel::typed_id!(
    /// One line of a cart.
    pub CartLineId, "crl"
);
mercato_kernel::typed_id!(
    /// A shop's coupon.
    pub CouponId, "cpn"
);

pub use mercato_orders_api::lifecycle;
pub use mercato_orders_api::{OrderId, OrderLineId, RefundId, ReturnId, TaxRateId, VendorOrderId};

pub mod cart;
pub mod coupon;
pub mod order;
pub mod payment;
pub mod percent;
pub mod pricing;
pub mod refund;
pub mod split;
pub mod tax;
