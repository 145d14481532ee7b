//! sea-orm entities of the tenants schema.

pub mod shop {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "shops")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        pub slug: String,
        pub name: String,
        pub status: String,
        pub status_reason: Option<String>,
        pub plan: String,
        pub currency: String,
        pub locale: String,
        pub timezone: String,
        pub branding_name: Option<String>,
        pub primary_colour: Option<String>,
        pub accent_colour: Option<String>,
        pub support_email: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub feature_overrides: Json,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod domain {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "domains")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub hostname: String,
        pub status: String,
        pub verification_token: String,
        pub last_checked_at: Option<DateTimeUtc>,
        pub last_error: Option<String>,
        pub verified_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
