//! The local filesystem backend: an object is the file `<root>/<key>`, its content type the
//! sidecar `.<name>.meta.json` beside it (key names never start with `.`, so the two never
//! collide).
//!
//! Writes are atomic: the data and the sidecar are each written to a temporary file, flushed
//! to disk and renamed into place, sidecar first. The data file's presence is what makes an
//! object exist, so a crash never leaves a half-written object visible; at worst it leaves
//! an orphan sidecar that the next write of that key replaces. A sidecar that is missing
//! (a file copied in by hand) reads as `application/octet-stream`.
//!
//! Two writers racing on one key each land whole, but the survivor's data may end up with
//! the other's content type; keys are meant to be written once (fresh names), so that race
//! is left alone rather than locked against.

use crate::key::ObjectKey;
use crate::signing::MediaSigner;
use crate::{Object, ObjectInfo, StorageError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";

#[derive(Serialize, Deserialize)]
struct Sidecar {
    content_type: String,
}

#[derive(Debug)]
pub(crate) struct LocalStore {
    root: PathBuf,
    pub(crate) signer: MediaSigner,
}

impl LocalStore {
    pub(crate) fn open(root: PathBuf, signer: MediaSigner) -> Result<Self, StorageError> {
        fs::create_dir_all(&root).map_err(io_error("create the storage root", &root))?;
        Ok(Self { root, signer })
    }

    fn data_path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn sidecar_path(&self, key: &ObjectKey) -> PathBuf {
        self.root
            .join(key.parent())
            .join(format!(".{}.meta.json", key.name()))
    }

    pub(crate) async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let (data, sidecar) = (self.data_path(key), self.sidecar_path(key));
        let meta = serde_json::to_vec(&Sidecar {
            content_type: content_type.to_owned(),
        })
        .map_err(StorageError::Metadata)?;
        blocking(move || {
            let dir = data.parent().unwrap_or(Path::new("."));
            fs::create_dir_all(dir).map_err(io_error("create the object's directory", dir))?;
            write_atomically(&sidecar, &meta)?;
            write_atomically(&data, &bytes)?;
            // The renames are durable once the directory entry is.
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_error("flush the object's directory", dir))
        })
        .await
    }

    pub(crate) async fn get(&self, key: &ObjectKey) -> Result<Object, StorageError> {
        let (data, sidecar) = (self.data_path(key), self.sidecar_path(key));
        let missing = not_found(key);
        blocking(move || {
            let bytes = match fs::read(&data) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing),
                Err(e) => return Err(io_error("read the object", &data)(e)),
            };
            Ok(Object {
                bytes: Bytes::from(bytes),
                content_type: read_content_type(&sidecar)?,
            })
        })
        .await
    }

    pub(crate) async fn head(&self, key: &ObjectKey) -> Result<ObjectInfo, StorageError> {
        let (data, sidecar) = (self.data_path(key), self.sidecar_path(key));
        let missing = not_found(key);
        blocking(move || {
            let size = match fs::metadata(&data) {
                Ok(meta) if meta.is_file() => meta.len(),
                Ok(_) => return Err(missing),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing),
                Err(e) => return Err(io_error("read the object's size", &data)(e)),
            };
            Ok(ObjectInfo {
                size,
                content_type: read_content_type(&sidecar)?,
            })
        })
        .await
    }

    /// Bytes stored under `prefix` (a directory relative to the root), sidecars excluded.
    pub(crate) async fn usage(&self, prefix: String) -> Result<u64, StorageError> {
        let dir = self.root.join(prefix);
        blocking(move || {
            let mut total = 0u64;
            let mut pending = vec![dir];
            while let Some(dir) = pending.pop() {
                let entries = match fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_error("list objects", &dir)(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(io_error("list objects", &dir))?;
                    let meta = entry.metadata().map_err(io_error("list objects", &dir))?;
                    if meta.is_dir() {
                        pending.push(entry.path());
                    } else if !entry.file_name().to_string_lossy().starts_with('.') {
                        total = total.saturating_add(meta.len());
                    }
                }
            }
            Ok(total)
        })
        .await
    }

    /// The usage of `<owners>/<owner>/<area>` for every owner and each of `areas`.
    pub(crate) async fn usage_of_areas(
        &self,
        owners: String,
        areas: Vec<String>,
    ) -> Result<u64, StorageError> {
        let dir = self.root.join(&owners);
        let names = blocking(move || {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error("list objects", &dir)(e)),
            };
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(io_error("list objects", &dir))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
            Ok(names)
        })
        .await?;
        let mut total = 0u64;
        for owner in names {
            for area in &areas {
                total = total.saturating_add(self.usage(format!("{owners}/{owner}/{area}")).await?);
            }
        }
        Ok(total)
    }

    pub(crate) async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        let (data, sidecar) = (self.data_path(key), self.sidecar_path(key));
        blocking(move || {
            // The data first: once it is gone the object is gone, whatever happens next.
            remove_if_present(&data)?;
            remove_if_present(&sidecar)
        })
        .await
    }
}

fn not_found(key: &ObjectKey) -> StorageError {
    StorageError::NotFound {
        key: key.as_str().to_owned(),
    }
}

fn read_content_type(sidecar: &Path) -> Result<String, StorageError> {
    match fs::read(sidecar) {
        Ok(meta) => serde_json::from_slice::<Sidecar>(&meta)
            .map(|sidecar| sidecar.content_type)
            .map_err(StorageError::Metadata),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FALLBACK_CONTENT_TYPE.to_owned()),
        Err(e) => Err(io_error("read the object's metadata", sidecar)(e)),
    }
}

/// Writes `bytes` to a temporary file beside `path`, flushes it and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.trim_start_matches('.'),
        uuid::Uuid::now_v7().simple()
    ));
    let written = fs::File::create_new(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if let Err(error) = written {
        // Best effort: the write already failed and that is the error worth reporting.
        let _ = fs::remove_file(&temp);
        return Err(io_error("write the object", path)(error));
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("delete the object", path)(e)),
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.to_owned();
    move |source| StorageError::Io {
        action,
        path,
        source,
    }
}

/// Runs filesystem work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(StorageError::Task)?
}
