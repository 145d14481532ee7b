//! sea-orm entities of the vendors schema.

pub mod vendor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub slug: String,
        pub store_name: String,
        pub legal_entity: String,
        pub country: String,
        pub contact_email: String,
        pub contact_phone: Option<String>,
        pub owner_user_id: Uuid,
        pub status: String,
        pub status_reason: Option<String>,
        pub holiday_until: Option<Date>,
        pub description: Option<String>,
        pub policies: Option<String>,
        pub return_address: Option<Json>,
        pub logo_key: Option<String>,
        pub banner_key: Option<String>,
        pub shipping_flat_rate_amount: Option<i64>,
        pub shipping_flat_rate_currency: Option<String>,
        pub free_shipping_over_amount: Option<i64>,
        pub free_shipping_over_currency: Option<String>,
        pub legal_address: Option<Json>,
        pub vat_id: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendor_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Uuid,
        pub action: String,
        pub from_status: Option<String>,
        pub to_status: String,
        pub reason: Option<String>,
        pub actor: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checklist_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checklist_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub label: String,
        pub kind: String,
        pub required: bool,
        pub position: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod vendor_checklist {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vendor_checklist")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub vendor_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub state: String,
        pub value: Option<String>,
        pub document_key: Option<String>,
        pub completed_at: Option<DateTimeUtc>,
        pub completed_by: Option<String>,
        pub override_reason: Option<String>,
        pub overridden_by: Option<String>,
        pub overridden_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod commission_rule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "commission_rules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Option<Uuid>,
        pub category_id: Option<Uuid>,
        /// A decimal as text (`12.5`): exact on both backends.
        pub percent: Option<String>,
        pub fixed_fee_amount: Option<i64>,
        pub fixed_fee_currency: Option<String>,
        /// `[{"currency": "EUR", "min": 50, "max": null}, …]`
        pub limits: Json,
        pub valid_from: DateTimeUtc,
        pub valid_until: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub created_by: String,
        pub deleted_at: Option<DateTimeUtc>,
        pub deleted_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payout_account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payout_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub vendor_id: Uuid,
        pub method: String,
        pub account_holder: Option<String>,
        pub iban: Option<String>,
        pub stripe_account_id: Option<String>,
        pub schedule: String,
        pub minimum_payout: i64,
        pub currency: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub updated_by: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
