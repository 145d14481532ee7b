//! Object storage for the platform: product images, vendor documents, generated reports.
//! It owns where bytes live and how a browser may fetch them, and publishes [`Storage`] (a
//! cheap handle over the local filesystem or an S3 bucket: put, get, head, delete, and a
//! time-limited [`Storage::download_url`]), [`ObjectKey`] (every key sits under
//! `shops/<shop>/vendors/<vendor or "shop">/<area>/<name>` and is built only from a
//! `TenantId`, so one shop's key never reaches another's prefix), [`validate_upload`]
//! (uploads are recognised by their magic bytes: JPEG, PNG, GIF, WebP, PDF; never by name),
//! [`StorageConfig`] for the gateway's config file, [`quota`] (the plan's storage limit as a
//! running total per shop in each storing service's database), and [`media_router`], which serves the
//! local backend's HMAC-signed `/media/…` links on their own shop's host only ([`HostTenant`]
//! names it; S3 links are presigned URLs to the bucket).
//! It consumes only its configuration; it publishes no events and does not log (errors carry
//! their sources; callers log them once).

mod config;
mod key;
mod local;
pub mod problems;
pub mod quota;
mod router;
mod s3;
mod signing;
mod upload;

pub use config::{S3Config, StorageConfig, StorageKind};
pub use key::{Component, KeyError, MAX_COMPONENT_LEN, ObjectKey, Owner};
pub use router::{HostTenant, media_router};
pub use signing::{MEDIA_PATH, MIN_SECRET_LEN, MediaSigner, SignatureError};
pub use upload::{MediaType, UploadError, sniff, validate_upload};

use axum::http::HeaderValue;
use bytes::Bytes;
use mercato_kernel::{Problem, Secret};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An object read back whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bytes: Bytes,
    pub content_type: String,
}

/// What [`Storage::head`] tells without reading the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: String,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("no object at `{key}`")]
    NotFound { key: String },
    #[error("`{content_type}` is not a valid content type")]
    InvalidContentType { content_type: String },
    #[error("invalid storage configuration at `{key}`: {message}")]
    InvalidConfig {
        key: &'static str,
        message: &'static str,
    },
    #[error("the media signing secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSigningSecret,
    /// The local backend could not do `action` on `path`.
    #[error("could not {action} at {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("an object's metadata file is not valid")]
    Metadata(#[source] serde_json::Error),
    #[error("the storage worker task failed")]
    Task(#[source] tokio::task::JoinError),
    /// The S3 server could not be reached or refused to `action`.
    #[error("object storage failed to {action}")]
    Backend {
        action: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("could not presign the download link")]
    Presign(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    /// The response for a request that failed on storage: a missing object is a 404;
    /// everything else is internal (logged with its sources, never shown).
    pub fn into_problem(self) -> Problem {
        match self {
            StorageError::NotFound { .. } => Problem::not_found(),
            other => Problem::internal(other),
        }
    }
}

/// A cheap-to-clone handle on the object store.
///
/// It is a closed enum over the two backends rather than an `Arc<dyn ObjectStore>`: both
/// live in this crate and are chosen by configuration, not extended by callers; their
/// download links differ in kind (a gateway-signed path served by [`media_router`] versus
/// a presigned URL to the bucket), which the router needs to tell apart without
/// downcasting; and tests use the real local backend on a temporary directory instead of a
/// mock, so there is no third implementation to make room for.
#[derive(Clone, Debug)]
pub struct Storage(Backend);

#[derive(Clone, Debug)]
enum Backend {
    Local(Arc<local::LocalStore>),
    S3(Arc<s3::S3Store>),
}

impl Storage {
    /// Objects as files under `root` (created if missing). Download links are signed with
    /// `signing_secret` (at least [`MIN_SECRET_LEN`] bytes), which every process serving
    /// [`media_router`] must share.
    pub fn local(root: impl Into<PathBuf>, signing_secret: &Secret) -> Result<Self, StorageError> {
        let signer = MediaSigner::new(signing_secret.expose().as_bytes())
            .ok_or(StorageError::WeakSigningSecret)?;
        Ok(Self(Backend::Local(Arc::new(local::LocalStore::open(
            root.into(),
            signer,
        )?))))
    }

    /// Objects in an S3 bucket. Makes no request; see [`Storage::ensure_bucket`].
    pub fn s3(config: &S3Config) -> Result<Self, StorageError> {
        Ok(Self(Backend::S3(Arc::new(s3::S3Store::new(config)?))))
    }

    /// The backend `config` names; `data_dir` places the local default root and
    /// `signing_secret` signs the local backend's links (the S3 backend does not use it).
    pub fn from_config(
        config: &StorageConfig,
        data_dir: &Path,
        signing_secret: &Secret,
    ) -> Result<Self, StorageError> {
        config.validate()?;
        match config.kind {
            StorageKind::Local => Self::local(config.local_root(data_dir), signing_secret),
            StorageKind::S3 => Self::s3(&config.s3),
        }
    }

    /// Makes sure objects can be written: creates the S3 bucket if it does not exist yet
    /// (the local root exists from construction on). Call it at start-up.
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        match &self.0 {
            Backend::Local(_) => Ok(()),
            Backend::S3(s3) => s3.ensure_bucket().await,
        }
    }

    /// Bytes one shop stores, over all its vendors and areas. It walks the shop's objects
    /// (a listing on S3): the plan's limit is checked against running totals instead
    /// ([`quota`]), which this and [`Storage::usage_of_areas`] recompute.
    pub async fn usage(
        &self,
        tenant: mercato_tenant_context::TenantId,
    ) -> Result<u64, StorageError> {
        let prefix = format!("shops/{tenant}");
        match &self.0 {
            Backend::Local(local) => local.usage(prefix).await,
            Backend::S3(s3) => s3.usage(prefix).await,
        }
    }

    /// Bytes one shop stores in `areas` (the `<area>` of `shops/<shop>/vendors/<owner>/<area>/…`),
    /// over all its vendors: what one service's files take, for [`quota::recompute`].
    pub async fn usage_of_areas(
        &self,
        tenant: mercato_tenant_context::TenantId,
        areas: &[&str],
    ) -> Result<u64, StorageError> {
        let owners = format!("shops/{tenant}/vendors");
        let areas: Vec<String> = areas.iter().map(|a| (*a).to_owned()).collect();
        match &self.0 {
            Backend::Local(local) => local.usage_of_areas(owners, areas).await,
            Backend::S3(s3) => s3.usage_of_areas(owners, areas).await,
        }
    }

    /// Stores `bytes` at `key` with `content_type`, replacing any object there. Readers see
    /// the old object or the new one, never a mix.
    pub async fn put(
        &self,
        key: &ObjectKey,
        bytes: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        if content_type.is_empty() || HeaderValue::from_str(content_type).is_err() {
            return Err(StorageError::InvalidContentType {
                content_type: content_type.to_owned(),
            });
        }
        let bytes = bytes.into();
        match &self.0 {
            Backend::Local(local) => local.put(key, bytes, content_type).await,
            Backend::S3(s3) => s3.put(key, bytes, content_type).await,
        }
    }

    /// The object at `key`, or [`StorageError::NotFound`].
    pub async fn get(&self, key: &ObjectKey) -> Result<Object, StorageError> {
        match &self.0 {
            Backend::Local(local) => local.get(key).await,
            Backend::S3(s3) => s3.get(key).await,
        }
    }

    /// The size and content type of the object at `key`, or [`StorageError::NotFound`].
    pub async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StorageError> {
        match &self.0 {
            Backend::Local(local) => local.head(key).await,
            Backend::S3(s3) => s3.head(key).await,
        }
    }

    /// Whether an object is stored at `key`.
    pub async fn exists(&self, key: &ObjectKey) -> Result<bool, StorageError> {
        match self.head(key).await {
            Ok(_) => Ok(true),
            Err(StorageError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes the object at `key`; nothing there is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match &self.0 {
            Backend::Local(local) => local.delete(key).await,
            Backend::S3(s3) => s3.delete(key).await,
        }
    }

    /// A link that fetches the object at `key` for `ttl` from now, without other
    /// credentials. Local: a gateway-relative path `/media/<key>?expires=<unix>&sig=<hex>`
    /// for [`media_router`]. S3: an absolute SigV4 presigned URL to the bucket (at most
    /// seven days). The object need not exist yet.
    pub async fn download_url(
        &self,
        key: &ObjectKey,
        ttl: Duration,
    ) -> Result<String, StorageError> {
        match &self.0 {
            Backend::Local(local) => {
                let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
                let expires = unix_now().saturating_add(ttl.max(1));
                Ok(local.signer.download_url(key, expires))
            }
            Backend::S3(s3) => s3.download_url(key, ttl).await,
        }
    }

    /// Checks a local download link's parts (`key` as it appears in the path). Always
    /// [`SignatureError::BadSignature`] on S3, whose links are not ours to verify.
    pub fn verify_download(
        &self,
        key: &str,
        expires: i64,
        sig: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        match self.media_signer() {
            Some(signer) => signer.verify_download(key, expires, sig, now),
            None => Err(SignatureError::BadSignature),
        }
    }

    /// The local backend's link signer; `None` on S3.
    pub fn media_signer(&self) -> Option<&MediaSigner> {
        match &self.0 {
            Backend::Local(local) => Some(&local.signer),
            Backend::S3(_) => None,
        }
    }

    /// `"local"` or `"s3"`, for logs and `/readyz`.
    pub fn backend_name(&self) -> &'static str {
        match &self.0 {
            Backend::Local(_) => "local",
            Backend::S3(_) => "s3",
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
