//! The S3 backend (AWS S3 or any S3-compatible server). The SDK's configuration is built by
//! hand from [`S3Config`] (static credentials, region, endpoint), so no ambient AWS
//! configuration (profiles, instance metadata, environment) is ever consulted. Download
//! links are SigV4 presigned `GET` URLs that the browser takes straight to the bucket.

use crate::config::S3Config;
use crate::key::ObjectKey;
use crate::{Object, ObjectInfo, StorageError};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use bytes::Bytes;
use std::time::Duration;

/// The default region, which also needs no location constraint when creating a bucket.
const US_EAST_1: &str = "us-east-1";

#[derive(Debug)]
pub(crate) struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    pub(crate) fn new(config: &S3Config) -> Result<Self, StorageError> {
        config.validate()?;
        let credentials = Credentials::new(
            &config.access_key_id,
            config.secret_access_key.expose(),
            None,
            None,
            "mercato-config",
        );
        // rustls on ring: the SDK's default client would bring aws-lc-sys into the build.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http)
            .credentials_provider(credentials)
            .region(Region::new(config.region.clone()))
            // S3-compatible servers differ in their support for the newer flexible
            // checksums; send and check them only where an operation requires them.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if !config.endpoint.is_empty() {
            // Other S3 servers rarely resolve virtual-hosted bucket names.
            builder = builder
                .endpoint_url(config.endpoint.clone())
                .force_path_style(true);
        }
        Ok(Self {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
        })
    }

    /// Creates the bucket unless it exists and is ours.
    pub(crate) async fn ensure_bucket(&self) -> Result<(), StorageError> {
        let region = self.client.config().region().map(Region::as_ref);
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        if let Some(region) = region.filter(|region| *region != US_EAST_1) {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if e.err().is_bucket_already_owned_by_you()
                    || e.err().is_bucket_already_exists() =>
            {
                // It exists (perhaps created a moment ago by another process): make sure
                // these credentials can use it.
                self.client
                    .head_bucket()
                    .bucket(&self.bucket)
                    .send()
                    .await
                    .map(drop)
                    .map_err(backend("check the bucket"))
            }
            Err(e) => Err(backend("create the bucket")(e)),
        }
    }

    pub(crate) async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(drop)
            .map_err(backend("put the object"))
    }

    pub(crate) async fn get(&self, key: &ObjectKey) -> Result<Object, StorageError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => {
                return Err(not_found(key));
            }
            Err(e) => return Err(backend("get the object")(e)),
        };
        let content_type = output.content_type().unwrap_or(FALLBACK).to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(backend("read the object"))?
            .into_bytes();
        Ok(Object {
            bytes,
            content_type,
        })
    }

    pub(crate) async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(ObjectInfo {
                size: output
                    .content_length()
                    .and_then(|len| u64::try_from(len).ok())
                    .unwrap_or_default(),
                content_type: output.content_type().unwrap_or(FALLBACK).to_owned(),
            }),
            Err(SdkError::ServiceError(e)) if e.err().is_not_found() => Err(not_found(key)),
            Err(e) => Err(backend("read the object's metadata")(e)),
        }
    }

    /// Bytes stored under `prefix`, summed over a listing of the objects.
    pub(crate) async fn usage(&self, prefix: String) -> Result<u64, StorageError> {
        self.usage_where(prefix, |_| true).await
    }

    /// The usage of `<owners>/<owner>/<area>/…` for every owner and each of `areas`: one
    /// listing of `owners`, keys filtered by their area.
    pub(crate) async fn usage_of_areas(
        &self,
        owners: String,
        areas: Vec<String>,
    ) -> Result<u64, StorageError> {
        let skip = owners.len() + 1;
        self.usage_where(owners, move |key| {
            key.get(skip..)
                .and_then(|rest| rest.split('/').nth(1))
                .is_some_and(|area| areas.iter().any(|a| a == area))
        })
        .await
    }

    async fn usage_where(
        &self,
        prefix: String,
        counts: impl Fn(&str) -> bool,
    ) -> Result<u64, StorageError> {
        let mut total = 0u64;
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{prefix}/"))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(backend("list objects"))?;
            for object in page.contents() {
                if object.key().is_some_and(&counts) {
                    total = total
                        .saturating_add(u64::try_from(object.size().unwrap_or(0)).unwrap_or(0));
                }
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated().unwrap_or(false) => token = Some(next.to_owned()),
                _ => return Ok(total),
            }
        }
    }

    pub(crate) async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        // S3 answers a delete of a missing key with success too.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map(drop)
            .map_err(backend("delete the object"))
    }

    pub(crate) async fn download_url(
        &self,
        key: &ObjectKey,
        ttl: Duration,
    ) -> Result<String, StorageError> {
        let presigning = PresigningConfig::expires_in(ttl)
            .map_err(|source| StorageError::Presign(Box::new(source)))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(presigning)
            .await
            .map_err(|source| StorageError::Presign(Box::new(source)))?;
        Ok(request.uri().to_owned())
    }
}

const FALLBACK: &str = "application/octet-stream";

fn not_found(key: &ObjectKey) -> StorageError {
    StorageError::NotFound {
        key: key.as_str().to_owned(),
    }
}

fn backend<E>(action: &'static str) -> impl FnOnce(E) -> StorageError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| StorageError::Backend {
        action,
        source: Box::new(source),
    }
}
