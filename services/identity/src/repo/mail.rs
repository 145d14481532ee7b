//! The mail outbox of one realm: mails written in the transaction of the change that needs
//! them, delivered afterwards by the `mail.send` job.

use super::entities::mail;
use crate::mail::MailId;
use chrono::{DateTime, SubsecRound, Utc};
use mercato_db::TenantTx;
use sea_orm::prelude::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set};

/// What a delivered mail's body becomes: the one-time secrets it carried should not stay
/// readable in the database once they are on their way.
pub const DELIVERED_BODY: &str = "(delivered; body removed)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMail {
    pub id: MailId,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn insert(tx: &TenantTx, to: &str, subject: &str, body: &str) -> Result<MailId, DbErr> {
    let id = MailId::new();
    let model = mail::ActiveModel {
        tenant_id: Set(tx.tenant().as_uuid()),
        id: Set(id.as_uuid()),
        to_address: Set(to.to_owned()),
        subject: Set(subject.to_owned()),
        body: Set(body.to_owned()),
        created_at: Set(Utc::now().trunc_subsecs(6)),
        sent_at: Set(None),
    };
    mail::Entity::insert(model)
        .exec_without_returning(&**tx)
        .await?;
    Ok(id)
}

pub async fn find(tx: &TenantTx, id: MailId) -> Result<Option<StoredMail>, DbErr> {
    Ok(
        mail::Entity::find_by_id((tx.tenant().as_uuid(), id.as_uuid()))
            .one(&**tx)
            .await?
            .map(|m| StoredMail {
                id: MailId::from_uuid(m.id),
                to: m.to_address,
                subject: m.subject,
                body: m.body,
                created_at: m.created_at,
                sent_at: m.sent_at,
            }),
    )
}

/// Records the delivery (and drops the body); false if it was recorded already.
pub async fn mark_sent(tx: &TenantTx, id: MailId) -> Result<bool, DbErr> {
    let result = mail::Entity::update_many()
        .col_expr(
            mail::Column::SentAt,
            Expr::value(Some(Utc::now().trunc_subsecs(6))),
        )
        .col_expr(mail::Column::Body, Expr::value(DELIVERED_BODY))
        .filter(mail::Column::TenantId.eq(tx.tenant().as_uuid()))
        .filter(mail::Column::Id.eq(id.as_uuid()))
        .filter(mail::Column::SentAt.is_null())
        .exec(&**tx)
        .await?;
    Ok(result.rows_affected == 1)
}
