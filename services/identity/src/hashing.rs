//! Password hashing and checking, bounded. Each argon2id run takes about 19 MiB and tens of
//! milliseconds of a CPU; without a bound, a few hundred sign-ins at once run the process out
//! of memory. Every hash and check in identity goes through [`PasswordHashing`], which lets
//! at most `max_concurrent` run and makes a request wait at most `wait_ms` for a slot; past
//! that the caller answers 503 `busy` (ADR 0025).

use crate::config::PasswordHashingConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a client is told to wait after a 503 `busy`: a slot frees within one argon2 run.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Deliberately not a `std::error::Error`: the kernel turns any such error into a 500, and
/// `Busy` must become a 503. Without it, `?` in a handler needs identity's own conversion.
#[derive(Debug)]
pub enum HashingError {
    /// Every slot stayed taken for the whole wait.
    Busy,
    /// Hashing failed or its task stopped: a bug or a dying process, not the client's doing.
    Failed(HashingFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum HashingFailure {
    #[error(transparent)]
    Hash(#[from] mercato_auth::PasswordError),
    #[error("the password hashing task stopped")]
    Task(#[from] tokio::task::JoinError),
}

impl std::fmt::Display for HashingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashingError::Busy => f.write_str("every password hashing slot is taken"),
            HashingError::Failed(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

impl From<mercato_auth::PasswordError> for HashingError {
    fn from(e: mercato_auth::PasswordError) -> Self {
        HashingError::Failed(e.into())
    }
}

impl From<tokio::task::JoinError> for HashingError {
    fn from(e: tokio::task::JoinError) -> Self {
        HashingError::Failed(e.into())
    }
}

/// A cheap handle; clones share the slots.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// One slot, held until dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl PasswordHashing {
    pub fn new(config: &PasswordHashingConfig) -> Self {
        let slots = usize::try_from(config.max_concurrent.get()).unwrap_or(usize::MAX);
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            wait: config.wait(),
        }
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        let slot = self.slot().await?;
        let phc = tokio::task::spawn_blocking(move || {
            // The slot goes with the work: if the request is dropped meanwhile, the run still
            // holds its memory until it ends, and so still holds its slot.
            let _slot = slot;
            mercato_auth::hash_password(&password)
        })
        .await??;
        Ok(phc)
    }

    /// Whether `password` matches `phc`.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashingError> {
        let slot = self.slot().await?;
        Self::verify_in(slot, password, phc).await
    }

    /// [`verify`](Self::verify) in a slot taken beforehand with [`slot`](Self::slot).
    pub async fn verify_in(
        slot: Slot,
        password: String,
        phc: String,
    ) -> Result<bool, HashingError> {
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = slot;
            mercato_auth::verify_password(&password, &phc)
        })
        .await?)
    }

    /// A slot, waiting for one at most `wait_ms`; [`HashingError::Busy`] if none frees.
    pub async fn slot(&self) -> Result<Slot, HashingError> {
        if let Some(slot) = self.try_slot() {
            return Ok(slot);
        }
        if self.wait.is_zero() {
            return Err(HashingError::Busy);
        }
        // The semaphore is never closed, so the only failure is the timeout.
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot { _permit: permit }),
            Ok(Err(_)) | Err(_) => Err(HashingError::Busy),
        }
    }

    /// Takes a free slot without waiting, as a running hash would hold it; `None` when every
    /// slot is taken. Tests hold slots this way to see what a saturated process answers.
    pub fn try_slot(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Slot { _permit: permit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn gate(max: u32, wait_ms: u64) -> PasswordHashing {
        PasswordHashing::new(&PasswordHashingConfig {
            max_concurrent: NonZeroU32::new(max).unwrap(),
            wait_ms,
        })
    }

    #[tokio::test]
    async fn a_full_gate_answers_busy_and_a_freed_slot_serves_again() {
        let gate = gate(1, 0);
        let held = gate.try_slot().unwrap();
        assert!(gate.try_slot().is_none());
        assert!(matches!(
            gate.verify("x".into(), "y".into()).await,
            Err(HashingError::Busy)
        ));
        drop(held);
        let phc = gate.hash("correct horse".into()).await.unwrap();
        assert!(gate.verify("correct horse".into(), phc).await.unwrap());
        assert!(gate.try_slot().is_some(), "the runs gave their slots back");
    }

    #[tokio::test]
    async fn a_waiting_request_takes_the_slot_that_frees() {
        let gate = gate(1, 60_000);
        let held = gate.try_slot().unwrap();
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.hash("correct horse".into()).await }
        });
        drop(held);
        assert!(waiting.await.unwrap().is_ok());
    }
}
