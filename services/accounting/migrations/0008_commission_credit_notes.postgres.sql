-- Commission credit notes (ADR 0043): a refund of a vendor order whose commission a
-- commission invoice carried credits the vendor that commission, and its VAT.
ALTER TABLE customer_documents DROP CONSTRAINT customer_documents_kind_check;
ALTER TABLE customer_documents ADD CONSTRAINT customer_documents_kind_check CHECK (kind IN ('invoice', 'credit_note', 'commission', 'commission_credit_note'));
ALTER TABLE customer_documents DROP CONSTRAINT customer_documents_of_something;
ALTER TABLE customer_documents ADD CONSTRAINT customer_documents_of_something CHECK ((order_id IS NOT NULL AND vendor_order_id IS NOT NULL) OR (kind IN ('commission', 'commission_credit_note') AND payout_id IS NOT NULL));
-- Which commission invoice carried each vendor order's commission, and at which VAT
-- (`vat_rate` null: reverse charge).
CREATE TABLE commission_items (
    tenant_id UUID NOT NULL,
    vendor_order_id UUID NOT NULL,
    document_id UUID NOT NULL,
    payout_id UUID NOT NULL,
    commission BIGINT NOT NULL,
    vat_rate TEXT,
    PRIMARY KEY (tenant_id, vendor_order_id)
);
