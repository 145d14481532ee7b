//! The orders service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the orders service gives besides the kernel's common ones.
    pub enum OrdersProblem in "orders" {
        InvalidTransition = (CONFLICT, "invalid_transition", "Conflict"),
        RefundExceedsRemaining = (CONFLICT, "refund_exceeds_remaining", "Conflict"),
        NothingToRefund = (CONFLICT, "nothing_to_refund", "Conflict"),
        NotPaid = (CONFLICT, "not_paid", "Conflict"),
        ProviderUnavailable = (SERVICE_UNAVAILABLE, "provider_unavailable", "Unavailable"),
        NotRefundable = (CONFLICT, "not_refundable", "Conflict"),
        IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "Idempotency key reused"),
        CouponNotApplicable = (CONFLICT, "coupon_not_applicable", "Conflict"),
        CartNotReady = (CONFLICT, "cart_not_ready", "Conflict"),
        CartClosed = (CONFLICT, "cart_closed", "Conflict"),
        CartEmpty = (CONFLICT, "cart_empty", "Conflict"),
        InsufficientStock = (CONFLICT, "insufficient_stock", "Conflict"),
        VendorNotSelling = (CONFLICT, "vendor_not_selling", "Conflict"),
        VendorOnHoliday = (CONFLICT, "vendor_on_holiday", "Conflict"),
        InventoryUnavailable = (SERVICE_UNAVAILABLE, "inventory_unavailable", "Unavailable"),
        CartChanged = (CONFLICT, "cart_changed", "Conflict"),
        CheckoutInProgress = (CONFLICT, "checkout_in_progress", "Conflict"),
        ProviderNotAccepted = (UNPROCESSABLE_ENTITY, "provider_not_accepted", "Payment provider not accepted"),
        OrderNotPayable = (CONFLICT, "order_not_payable", "Conflict"),
        PaymentInProgress = (CONFLICT, "payment_in_progress", "Conflict"),
        InvalidSignature = (BAD_REQUEST, "invalid_signature", "Bad request"),
        InvalidEvent = (BAD_REQUEST, "invalid_event", "Bad request"),
        EventWithoutShop = (BAD_REQUEST, "event_without_shop", "Bad request"),
        AlreadyShipped = (CONFLICT, "already_shipped", "Conflict"),
        CancelWindowPassed = (CONFLICT, "cancel_window_passed", "Conflict"),
        NotCancellable = (CONFLICT, "not_cancellable", "Conflict"),
        NotDelivered = (CONFLICT, "not_delivered", "Conflict"),
        ReturnDecided = (CONFLICT, "return_decided", "Conflict"),
        NotInReview = (CONFLICT, "not_in_review", "Conflict"),
        CartFull = (CONFLICT, "cart_full", "Conflict"),
        CouponCodeTaken = (CONFLICT, "coupon_code_taken", "Conflict"),
        NotToShip = (CONFLICT, "not_to_ship", "Conflict"),
    }
}
