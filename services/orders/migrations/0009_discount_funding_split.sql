-- A coupon's discount may be shared between shop and vendor by a percentage (ADR 0039): each
-- vendor order keeps the two parts in minor units, `discount_by_shop + discount_by_vendor =
-- discount`. Vendor orders from before were funded wholly by one side, as
-- `discount_funded_by` says.
ALTER TABLE vendor_orders ADD COLUMN discount_by_shop BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vendor_orders ADD COLUMN discount_by_vendor BIGINT NOT NULL DEFAULT 0;
UPDATE vendor_orders SET
    discount_by_shop = CASE WHEN discount_funded_by = 'vendor' THEN 0 ELSE discount END,
    discount_by_vendor = CASE WHEN discount_funded_by = 'vendor' THEN discount ELSE 0 END;
