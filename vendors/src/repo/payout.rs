//! Payout accounts: at most one per vendor (a unique index on `(tenant_id, vendor_id)`).

use super::corrupt;
use super::entities::payout_account;
use crate::domain::payout::{
    Iban, PayoutAccount, PayoutAccountId, PayoutMethod, PayoutSchedule, StripeAccountId,
};
use mercato_db::TenantTx;
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

use payout_account::Column as C;

fn from_model(m: payout_account::Model) -> Result<PayoutAccount, DbErr> {
    let method = match (
        m.method.as_str(),
        m.account_holder,
        m.iban,
        m.stripe_account_id,
    ) {
        ("bank_transfer", Some(account_holder), Some(iban), _) => PayoutMethod::BankTransfer {
            account_holder,
            iban: Iban::parse(&iban).map_err(|_| corrupt("IBAN", "(not shown)"))?,
        },
        ("stripe_connect", _, _, Some(account)) => PayoutMethod::StripeConnect {
            account: StripeAccountId::parse(&account)
                .map_err(|_| corrupt("stripe account", &account))?,
        },
        (other, ..) => return Err(corrupt("payout method", other)),
    };
    let currency =
        Currency::parse(&m.currency).map_err(|_| corrupt("payout currency", &m.currency))?;
    Ok(PayoutAccount {
        id: PayoutAccountId::from_uuid(m.id),
        vendor: VendorId::from_uuid(m.vendor_id),
        method,
        schedule: PayoutSchedule::parse(&m.schedule)
            .ok_or_else(|| corrupt("payout schedule", &m.schedule))?,
        minimum_payout: Money::new(m.minimum_payout, currency),
        currency,
        created_at: m.created_at,
        updated_at: m.updated_at,
        updated_by: m.updated_by,
    })
}

pub async fn find(tx: &TenantTx, vendor: VendorId) -> Result<Option<PayoutAccount>, DbErr> {
    payout_account::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().as_uuid()))
        .filter(C::VendorId.eq(vendor.as_uuid()))
        .one(&**tx)
        .await?
        .map(from_model)
        .transpose()
}

/// Stores the vendor's account, replacing the one it had (which keeps its id and
/// `created_at`).
pub async fn save(tx: &TenantTx, account: &PayoutAccount) -> Result<(), DbErr> {
    let (holder, iban, stripe) = match &account.method {
        PayoutMethod::BankTransfer {
            account_holder,
            iban,
        } => (
            Some(account_holder.clone()),
            Some(iban.as_str().to_owned()),
            None,
        ),
        PayoutMethod::StripeConnect { account } => (None, None, Some(account.as_str().to_owned())),
    };
    let model = payout_account::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(account.id.as_uuid()),
        vendor_id: Set(account.vendor.as_uuid()),
        method: Set(account.method.code().to_owned()),
        account_holder: Set(holder),
        iban: Set(iban),
        stripe_account_id: Set(stripe),
        schedule: Set(account.schedule.code().to_owned()),
        minimum_payout: Set(account.minimum_payout.amount),
        currency: Set(account.currency.code().to_owned()),
        created_at: Set(account.created_at),
        updated_at: Set(account.updated_at),
        updated_by: Set(account.updated_by.clone()),
    };
    payout_account::Entity::insert(model)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::VendorId])
                .update_columns([
                    C::Method,
                    C::AccountHolder,
                    C::Iban,
                    C::StripeAccountId,
                    C::Schedule,
                    C::MinimumPayout,
                    C::Currency,
                    C::UpdatedAt,
                    C::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map(|_| ())
}
