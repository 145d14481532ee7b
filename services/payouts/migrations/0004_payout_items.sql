-- The vendor orders whose earnings each payout covers (ADR 0043), recorded when a run sets
-- the money aside: the shop's commission invoice to the vendor lists their commission. A
-- vendor order is covered by one payout that has not failed; a failed payout's items free
-- it for the next.
CREATE TABLE payout_items (
    tenant_id UUID NOT NULL,
    payout_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    order_id UUID NOT NULL,
    commission BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, payout_id, vendor_order_id),
    FOREIGN KEY (tenant_id, payout_id) REFERENCES payouts (tenant_id, id)
);
CREATE INDEX payout_items_vendor_order ON payout_items (tenant_id, vendor_order_id);
