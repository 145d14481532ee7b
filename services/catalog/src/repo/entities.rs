//! sea-orm entities of the catalog schema (`migrations/`).

macro_rules! entity {
    ($module:ident, $table:literal, { $($body:tt)* }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $($body)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(settings, "catalog_settings", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub require_listing_approval: bool,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
});

entity!(vendor, "vendors", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub slug: String,
    pub store_name: String,
    pub status: String,
    pub owner_user_id: Uuid,
    /// On holiday until this day, inclusive (`migrations/0002_vendor_holidays.sql`).
    pub holiday_until: Option<Date>,
    pub event_at: DateTimeUtc,
});

entity!(category, "categories", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub slug: String,
    pub position: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(attribute, "attributes", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub kind: String,
    /// `["red", "green"]` for an enum, `[]` otherwise.
    pub options: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(product, "products", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub category_id: Option<Uuid>,
    pub tags: Json,
    pub option_types: Json,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub canonical_slug: Option<String>,
    pub currency: Option<String>,
    pub min_price: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(product_attribute, "product_attributes", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub value: String,
});

entity!(variant, "variants", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub title: Option<String>,
    pub options: Json,
    pub price_amount: i64,
    pub currency: String,
    pub compare_at_amount: Option<i64>,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub barcode: Option<String>,
    pub position: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
});

entity!(media, "media", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub position: i32,
    pub created_at: DateTimeUtc,
});

entity!(stock, "stock", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub vendor_id: Uuid,
    pub available: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub event_at: DateTimeUtc,
});

entity!(import, "imports", {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub status: String,
    pub as_merchant: bool,
    pub product_limit: i64,
    pub source: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub groups_done: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub failed_rows: i64,
    pub error_count: i64,
    /// `[{"row": 3, "column": "price", "message": "…"}, …]`, the first 1000.
    pub errors: Json,
    pub failure: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
});
