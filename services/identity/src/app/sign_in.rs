//! Signing in with an email and a password, behind the back-off of ADR 0025: each attempt is
//! counted against the email (whether or not an account has it) and, when the gateway says
//! who is calling, the client's address, before the password is checked; past the limit it
//! is refused without an argon2 run. A sign-in clears the email's count.
//!
//! The attempt takes its password-hashing slot first. A saturated process thus answers 503
//! before any database work, and only an attempt whose password will be checked counts: a
//! burst the server turned away does not lock anyone out.

use crate::IdentityState;
use crate::domain::backoff::{self, Backoff, Subject, Verdict};
use crate::domain::{Email, Realm};
use crate::hashing::{HashingError, PasswordHashing};
use crate::repo::login_backoff;
use crate::repo::users::{self, User};
use chrono::{SubsecRound, Utc};
use mercato_db::TenantTx;
use sea_orm::DbErr;
use std::net::IpAddr;

/// One attempt, as the client sent it.
pub struct SignIn<'a> {
    pub realm: Realm,
    /// As typed: counted as typed (normalised), looked up only if it is a valid address.
    pub email: &'a str,
    pub password: String,
    /// The client's address when the request says it; `None` counts per email only.
    pub address: Option<IpAddr>,
}

/// A checked password: the account, and the open transaction in which the back-off was
/// cleared. The caller starts the session in it and commits.
pub struct SignedIn {
    pub tx: TenantTx,
    pub user: User,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password or an inactive account: the caller cannot tell which.
    #[error("the email or password is not right")]
    BadCredentials,
    /// Too many attempts for this email or address; the same for accounts that do not exist.
    #[error("too many sign-in attempts; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Busy, or hashing failed (see [`HashingError`], which is no `std::error::Error`).
    #[error("{0}")]
    Hashing(HashingError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What this attempt counts against, in the order their rows are locked (always the same
/// order, so two attempts never wait for each other's rows crosswise).
fn subjects(state: &IdentityState, attempt: &SignIn<'_>) -> Vec<(Subject, Backoff)> {
    let limits = &state.config.login_backoff;
    let mut subjects = vec![(Subject::account(attempt.email), limits.per_account())];
    if let Some(ip) = attempt.address {
        subjects.push((Subject::address(ip), limits.per_address()));
    }
    subjects.sort_by(|a, b| a.0.cmp(&b.0));
    subjects
}

pub async fn sign_in(state: &IdentityState, attempt: SignIn<'_>) -> Result<SignedIn, SignInError> {
    let slot = state.hashing.slot().await.map_err(SignInError::Hashing)?;
    let tenant = attempt.realm.storage_tenant();
    let subjects = subjects(state, &attempt);

    // Count the attempt (or refuse it) and find the account, in one short transaction.
    let tx = state.db.tenant_tx(tenant).await?;
    let arrived = Utc::now().trunc_subsecs(6);
    let mut remembered = Vec::with_capacity(subjects.len());
    for (subject, _) in &subjects {
        remembered.push(login_backoff::lock(&tx, &subject.key(), arrived).await?);
    }
    // Judged once the rows are ours: an attempt that waited for another's lock sees its time.
    let now = Utc::now().trunc_subsecs(6);
    let verdicts: Vec<Verdict> = subjects
        .iter()
        .zip(remembered)
        .map(|((_, limits), remembered)| limits.judge(remembered, now))
        .collect();
    if let Some(retry_after) = verdicts.iter().filter_map(Verdict::retry_after).max() {
        // Only the refusals are stored (they may start a lock): an attempt refused for its
        // address was not an attempt on the email.
        for ((subject, limits), verdict) in subjects.iter().zip(&verdicts) {
            if let Verdict::Refused { attempts, .. } = verdict {
                let forget_at = limits.forget_at(attempts);
                login_backoff::save(&tx, &subject.key(), attempts, forget_at).await?;
            }
        }
        tx.commit().await?;
        return Err(SignInError::Throttled {
            retry_after_secs: backoff::retry_after_secs(retry_after),
        });
    }
    for ((subject, limits), verdict) in subjects.iter().zip(&verdicts) {
        let attempts = verdict.attempts();
        login_backoff::save(&tx, &subject.key(), &attempts, limits.forget_at(&attempts)).await?;
    }
    let found = match Email::parse(attempt.email) {
        Ok(email) => users::find_by_email(&tx, &email).await?,
        Err(_) => None,
    };
    tx.commit().await?;

    // Check the password outside any transaction, against a real hash even when there is no
    // account, so the time taken does not tell.
    let phc = found
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    let password_ok = PasswordHashing::verify_in(slot, attempt.password, phc)
        .await
        .map_err(SignInError::Hashing)?;
    let user = match found {
        Some(user) if password_ok && user.active => user,
        _ => return Err(SignInError::BadCredentials),
    };

    let tx = state.db.tenant_tx(tenant).await?;
    for (subject, _) in &subjects {
        match subject {
            Subject::Account(_) => login_backoff::clear(&tx, &subject.key()).await?,
            // An address is not cleared by one good password, or whoever guesses from it
            // could sign in to an account of their own between guesses; it only gets this
            // attempt back.
            Subject::Address(_) => login_backoff::forgive(&tx, &subject.key()).await?,
        }
    }
    Ok(SignedIn { tx, user })
}
