CREATE TABLE catalog_settings (
    tenant_id UUID NOT NULL,
    require_listing_approval BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id)
);
CREATE TABLE vendors (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    slug TEXT NOT NULL,
    store_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'onboarding', 'in_review', 'approved', 'rejected', 'suspended')),
    owner_user_id UUID NOT NULL,
    event_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE categories (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    parent_id UUID,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES categories (tenant_id, id)
);
CREATE UNIQUE INDEX categories_slug ON categories (tenant_id, slug);
CREATE INDEX categories_parent ON categories (tenant_id, parent_id);
CREATE TABLE attributes (
    tenant_id UUID NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'number', 'boolean', 'enum')),
    options JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE TABLE products (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_review', 'active', 'rejected', 'archived')),
    status_reason TEXT,
    category_id UUID,
    tags JSONB NOT NULL,
    option_types JSONB NOT NULL,
    seo_title TEXT,
    seo_description TEXT,
    canonical_slug TEXT,
    currency TEXT,
    min_price BIGINT NOT NULL CHECK (min_price >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id)
);
CREATE UNIQUE INDEX products_slug ON products (tenant_id, slug);
CREATE INDEX products_vendor ON products (tenant_id, vendor_id, id);
CREATE INDEX products_status ON products (tenant_id, status, id);
CREATE INDEX products_category ON products (tenant_id, category_id);
CREATE TABLE product_attributes (
    tenant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    code TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, product_id, code),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id),
    FOREIGN KEY (tenant_id, code) REFERENCES attributes (tenant_id, code)
);
CREATE INDEX product_attributes_value ON product_attributes (tenant_id, code, value);
CREATE TABLE variants (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    product_id UUID NOT NULL,
    sku TEXT NOT NULL,
    title TEXT,
    options JSONB NOT NULL,
    price_amount BIGINT NOT NULL CHECK (price_amount >= 0),
    currency TEXT NOT NULL,
    compare_at_amount BIGINT CHECK (compare_at_amount >= 0),
    weight_grams BIGINT CHECK (weight_grams >= 0),
    length_mm BIGINT CHECK (length_mm > 0),
    width_mm BIGINT CHECK (width_mm > 0),
    height_mm BIGINT CHECK (height_mm > 0),
    barcode TEXT,
    position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE UNIQUE INDEX variants_sku ON variants (tenant_id, sku);
CREATE INDEX variants_product ON variants (tenant_id, product_id, position);
CREATE TABLE media (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    product_id UUID NOT NULL,
    object_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX media_product ON media (tenant_id, product_id, position);
CREATE TABLE stock (
    tenant_id UUID NOT NULL,
    variant_id UUID NOT NULL,
    product_id UUID NOT NULL,
    vendor_id UUID NOT NULL,
    available BIGINT NOT NULL,
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    event_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, variant_id)
);
CREATE INDEX stock_product ON stock (tenant_id, product_id);
CREATE TABLE imports (
    tenant_id UUID NOT NULL,
    id UUID NOT NULL,
    vendor_id UUID,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    as_merchant BOOLEAN NOT NULL,
    product_limit BIGINT NOT NULL,
    source TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    processed_rows BIGINT NOT NULL,
    groups_done BIGINT NOT NULL,
    created_rows BIGINT NOT NULL,
    updated_rows BIGINT NOT NULL,
    unchanged_rows BIGINT NOT NULL,
    failed_rows BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    errors JSONB NOT NULL,
    failure TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors (tenant_id, id)
);
