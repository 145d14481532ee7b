//! The backend matrix: one storage per test on each backend, S3 buckets removed afterwards.

use mercato_kernel::Secret;
use mercato_storage::{S3Config, Storage};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";
/// A minimal PDF.
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

pub fn signing_secret() -> Secret {
    Secret::new("a test signing secret of 32 bytes or more")
}

/// A local storage in a fresh temporary directory (removed when the guard drops).
pub fn local() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::local(dir.path().join("objects"), &signing_secret()).unwrap();
    (dir, storage)
}

/// The S3 server's settings with a bucket of the test's own, or `None` after saying the
/// test is skipped (a failure under `MERCATO_TEST_REQUIRE_BACKENDS=1`).
pub fn s3_config(test: &str) -> Option<S3Config> {
    let endpoint = mercato_testkit::backend(mercato_testkit::S3, test)?;
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} must be set with {}", mercato_testkit::S3))
    };
    Some(S3Config {
        endpoint,
        region: "us-east-1".into(),
        bucket: mercato_testkit::unique("mercato-test-"),
        access_key_id: var(mercato_testkit::S3_ACCESS_KEY),
        secret_access_key: Secret::new(var(mercato_testkit::S3_SECRET_KEY)),
    })
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Local,
    S3,
}

/// Opens storages on one backend for one test and remembers what to clean up.
#[derive(Clone)]
pub struct Fixture {
    s3: Option<S3Config>,
    dirs: Arc<Mutex<Vec<tempfile::TempDir>>>,
}

impl Fixture {
    /// A new, empty storage: a fresh directory, or the test's own bucket (created here).
    pub async fn storage(&self) -> Storage {
        match &self.s3 {
            None => {
                let (dir, storage) = local();
                self.dirs.lock().unwrap().push(dir);
                storage
            }
            Some(config) => {
                let storage = Storage::s3(config).unwrap();
                storage.ensure_bucket().await.unwrap();
                storage
            }
        }
    }
}

pub async fn run<F, Fut>(backend: Backend, test: &str, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let s3 = match backend {
        Backend::Local => None,
        Backend::S3 => match s3_config(test) {
            Some(config) => Some(config),
            None => return,
        },
    };
    let fixture = Fixture {
        s3,
        dirs: Arc::default(),
    };
    let outcome = tokio::spawn(body(fixture.clone())).await;
    if let Some(config) = &fixture.s3 {
        remove_bucket(config).await;
    }
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// A raw S3 client on the same server, for what the storage API deliberately lacks.
pub fn raw_client(config: &S3Config) -> aws_sdk_s3::Client {
    mercato_testkit::s3::client(
        &config.endpoint,
        &config.region,
        &config.access_key_id,
        config.secret_access_key.expose(),
    )
}

/// Empties and deletes the test's bucket, if it was created.
pub async fn remove_bucket(config: &S3Config) {
    mercato_testkit::s3::remove_bucket(&raw_client(config), &config.bucket)
        .await
        .expect("remove the test bucket");
}

/// Declares each listed `async fn(Fixture)` as one test per backend:
/// `local::<name>` and `s3::<name>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::Local, test, super::$name).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    $crate::support::run($crate::support::Backend::S3, test, super::$name).await;
                }
            )*
        }
    };
}

/// Valid S3 settings that point nowhere, for tests that only construct a storage.
pub fn s3_config_for_construction() -> S3Config {
    S3Config {
        endpoint: "http://127.0.0.1:9".into(),
        region: "us-east-1".into(),
        bucket: "mercato-unused".into(),
        access_key_id: "unused".into(),
        secret_access_key: Secret::new("an-s3-secret-that-must-not-show"),
    }
}
