//! The S3 server of a test run, reached directly: for what the storage API deliberately lacks
//! (removing a bucket, listing what is in it), so tests leave no bucket behind.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// A client of the S3 server at `endpoint` in `region` (path-style).
pub fn client(endpoint: &str, region: &str, access_key: &str, secret_key: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

/// Empties `bucket` (every page of its listing) and deletes it. A bucket that was never
/// created is not an error: the test may have failed before making it.
pub async fn remove_bucket(client: &Client, bucket: &str) -> anyhow::Result<()> {
    let mut continuation: Option<String> = None;
    loop {
        let listing = match client
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(continuation.take())
            .send()
            .await
        {
            Ok(listing) => listing,
            Err(error) => {
                let missing = error
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_bucket());
                if missing {
                    return Ok(());
                }
                return Err(anyhow::Error::new(error).context(format!("list bucket {bucket}")));
            }
        };
        for key in listing.contents().iter().filter_map(|object| object.key()) {
            client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| anyhow::Error::new(e).context(format!("delete {bucket}/{key}")))?;
        }
        match listing.next_continuation_token() {
            Some(token) if listing.is_truncated() == Some(true) => {
                continuation = Some(token.to_owned());
            }
            _ => break,
        }
    }
    client
        .delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("delete bucket {bucket}")))?;
    Ok(())
}
