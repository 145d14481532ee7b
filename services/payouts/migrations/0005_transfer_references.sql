CREATE INDEX payouts_reference ON payouts (tenant_id, reference);
