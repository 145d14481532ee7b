//! Storage configuration, shaped for the layered config file: a flat `kind` plus the
//! settings of each backend, so `MERCATO_STORAGE__KIND=s3` and `MERCATO_STORAGE__S3__…`
//! switch backends without restating the defaults.

use crate::StorageError;
use mercato_kernel::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// Files under [`StorageConfig::root`] (the embedded shape).
    #[default]
    Local,
    S3,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub kind: StorageKind,
    /// The local backend's directory. Empty: `<data_dir>/objects`.
    pub root: PathBuf,
    /// Used when `kind = "s3"`.
    pub s3: S3Config,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            kind: StorageKind::Local,
            root: PathBuf::new(),
            s3: S3Config::default(),
        }
    }
}

impl StorageConfig {
    /// The local backend's directory: [`StorageConfig::root`], or `<data_dir>/objects`.
    pub fn local_root(&self, data_dir: &Path) -> PathBuf {
        if self.root.as_os_str().is_empty() {
            data_dir.join("objects")
        } else {
            self.root.clone()
        }
    }

    /// Checks what serde cannot, naming the offending key relative to this section
    /// (`s3.bucket`).
    pub fn validate(&self) -> Result<(), StorageError> {
        match self.kind {
            StorageKind::Local => Ok(()),
            StorageKind::S3 => self.s3.validate(),
        }
    }
}

/// An S3 bucket and the static credentials to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// An S3-compatible server's URL (`http://127.0.0.1:9000`); requests then use path-style
    /// addressing. Empty: AWS S3 itself.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            access_key_id: String::new(),
            secret_access_key: Secret::new(""),
        }
    }
}

impl S3Config {
    pub fn validate(&self) -> Result<(), StorageError> {
        let invalid = |key, message| Err(StorageError::InvalidConfig { key, message });
        let scheme_ok = ["http://", "https://"]
            .iter()
            .any(|scheme| self.endpoint.starts_with(scheme));
        if !self.endpoint.is_empty() && !scheme_ok {
            return invalid(
                "s3.endpoint",
                "must be an http:// or https:// URL, or empty",
            );
        }
        if self.region.is_empty() {
            return invalid("s3.region", "is required");
        }
        let bucket_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !(3..=63).contains(&self.bucket.len())
            || !self.bucket.chars().all(|c| bucket_char(c) || c == '.')
            || !self.bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !self.bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return invalid(
                "s3.bucket",
                "must be 3 to 63 lowercase letters, digits, `-` or `.`, starting and ending with a letter or digit",
            );
        }
        if self.access_key_id.is_empty() {
            return invalid("s3.access_key_id", "is required");
        }
        if self.secret_access_key.expose().is_empty() {
            return invalid("s3.secret_access_key", "is required");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3() -> S3Config {
        S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            bucket: "mercato-media".into(),
            access_key_id: "mercato".into(),
            secret_access_key: Secret::new("hunter2hunter2"),
        }
    }

    #[test]
    fn defaults_are_local_under_the_data_dir() {
        let config = StorageConfig::default();
        assert_eq!(config.kind, StorageKind::Local);
        assert_eq!(
            config.local_root(Path::new("./data")),
            Path::new("./data/objects")
        );
        assert!(config.validate().is_ok());
        let elsewhere = StorageConfig {
            root: "/srv/objects".into(),
            ..StorageConfig::default()
        };
        assert_eq!(
            elsewhere.local_root(Path::new("./data")),
            Path::new("/srv/objects")
        );
    }

    #[test]
    fn the_section_reads_from_toml_strictly() {
        let config: StorageConfig = toml::from_str(
            r#"
            kind = "s3"
            root = ""
            [s3]
            endpoint = "http://127.0.0.1:9000"
            region = "us-east-1"
            bucket = "mercato-media"
            access_key_id = "mercato"
            secret_access_key = "hunter2hunter2"
            "#,
        )
        .unwrap();
        assert_eq!(config.kind, StorageKind::S3);
        assert_eq!(config.s3, s3());
        assert!(config.validate().is_ok());
        assert!(
            !format!("{config:?}").contains("hunter2"),
            "secrets never show"
        );

        let typo = toml::from_str::<StorageConfig>(
            "kind = \"local\"\nroot = \"\"\nbukket = \"x\"\n[s3]\nendpoint = \"\"\nregion = \"x\"\nbucket = \"\"\naccess_key_id = \"\"\nsecret_access_key = \"\"\n",
        );
        assert!(typo.is_err(), "unknown keys are refused");
    }

    #[test]
    fn s3_settings_are_checked_with_the_key_named() {
        type Breakage = fn(&mut S3Config);
        let cases: [(Breakage, &str); 6] = [
            (|c| c.endpoint = "127.0.0.1:9000".into(), "s3.endpoint"),
            (|c| c.region.clear(), "s3.region"),
            (|c| c.bucket = "My_Bucket".into(), "s3.bucket"),
            (|c| c.bucket = "ab".into(), "s3.bucket"),
            (|c| c.access_key_id.clear(), "s3.access_key_id"),
            (
                |c| c.secret_access_key = Secret::new(""),
                "s3.secret_access_key",
            ),
        ];
        for (break_it, expected) in cases {
            let mut config = s3();
            break_it(&mut config);
            match config.validate() {
                Err(StorageError::InvalidConfig { key, .. }) => assert_eq!(key, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
        let aws = S3Config {
            endpoint: String::new(),
            ..s3()
        };
        assert!(aws.validate().is_ok(), "no endpoint means AWS itself");
    }
}
