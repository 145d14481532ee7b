//! Opening a storage from the gateway's configuration section.

use crate::support::{s3_config_for_construction, signing_secret};
use mercato_kernel::Secret;
use mercato_storage::{Storage, StorageConfig, StorageError, StorageKind};

#[test]
fn the_configured_backend_is_opened() {
    let data_dir = tempfile::tempdir().unwrap();
    let local = Storage::from_config(
        &StorageConfig::default(),
        data_dir.path(),
        &signing_secret(),
    )
    .unwrap();
    assert_eq!(local.backend_name(), "local");
    assert!(
        data_dir.path().join("objects").is_dir(),
        "the default root is <data_dir>/objects, created at start"
    );

    let s3 = StorageConfig {
        kind: StorageKind::S3,
        s3: s3_config_for_construction(),
        ..StorageConfig::default()
    };
    let storage = Storage::from_config(&s3, data_dir.path(), &signing_secret()).unwrap();
    assert_eq!(storage.backend_name(), "s3");
    let shown = format!("{storage:?}");
    assert!(
        !shown.contains(s3.s3.secret_access_key.expose()),
        "the S3 secret never shows: {shown}"
    );
}

#[test]
fn bad_settings_are_refused_at_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut s3 = StorageConfig {
        kind: StorageKind::S3,
        s3: s3_config_for_construction(),
        ..StorageConfig::default()
    };
    s3.s3.bucket.clear();
    assert!(matches!(
        Storage::from_config(&s3, data_dir.path(), &signing_secret()),
        Err(StorageError::InvalidConfig {
            key: "s3.bucket",
            ..
        })
    ));
    assert!(matches!(
        Storage::local(data_dir.path(), &Secret::new("too short")),
        Err(StorageError::WeakSigningSecret)
    ));
    // A root that cannot be a directory (it is a file).
    let file = data_dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        Storage::local(&file, &signing_secret()),
        Err(StorageError::Io { .. })
    ));
}
