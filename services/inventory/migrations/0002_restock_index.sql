CREATE INDEX stock_adjustments_reservation ON stock_adjustments (tenant_id, reservation_id);
