-- A vendor's legal details for invoices (ADR 0043): the address printed on them and a
-- VAT id; its legal name and country are `legal_entity` and `country`.
ALTER TABLE vendors ADD COLUMN legal_address JSONB;
ALTER TABLE vendors ADD COLUMN vat_id TEXT;
