-- A checkout's Idempotency-Key belongs to whoever checks out (a customer, or a guest's cart),
-- not to the whole shop: two shoppers who happen to send the same key must not collide. The
-- old keys are not carried over: their orders stand, and a retry of one of them now finds its
-- cart closed (409 cart_closed) instead of its order.
CREATE TABLE checkout_caller_keys (
    tenant_id UUID NOT NULL,
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, caller, key)
);
DROP TABLE checkout_keys;
