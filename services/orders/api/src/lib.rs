//! What the orders service lets other crates depend on (ADR 0028): the ids of what it owns,
//! the lifecycle of an order and of a vendor order, and the payloads of the events it
//! publishes, as orders writes them and as a consumer reads them back. No database, no HTTP
//! server, no I/O: a consumer depends on this crate, never on `mercato-orders` itself.

pub mod events;
pub mod lifecycle;
pub mod money;
pub mod token;

mercato_kernel::typed_id!(
    /// A shopper's order across vendors.
    pub OrderId, "ord"
);
mercato_kernel::typed_id!(
    /// One vendor's part of an order.
    pub VendorOrderId, "vor"
);
mercato_kernel::typed_id!(
    /// A refund of (part of) an order.
    pub RefundId, "rfd"
);
mercato_kernel::typed_id!(
    /// A shopper's return request.
    pub ReturnId, "ret"
);
mercato_kernel::typed_id!(
    /// One line of an order.
    pub OrderLineId, "orl"
);
mercato_kernel::typed_id!(
    /// A payment of an order through a provider.
    pub PaymentId, "pay"
);
mercato_kernel::typed_id!(
    /// A tax rate of a shop (a country and a tax category).
    pub TaxRateId, "txr"
);
