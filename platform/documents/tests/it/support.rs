//! Rendering to a temporary file and reading it back with poppler.

use std::path::{Path, PathBuf};
use std::process::Command;

use mercato_documents::{Document, render};

/// Runs a poppler tool; a missing tool fails the test with the package to install.
pub fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let output = match Command::new(tool).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{tool} is not installed: these tests need Debian's poppler-utils \
             (apt-get install poppler-utils)"
        ),
        Err(e) => panic!("{tool} did not start: {e}"),
    };
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub struct Rendered {
    _dir: tempfile::TempDir,
    path: PathBuf,
    pub size: usize,
}

impl Rendered {
    pub fn new(doc: &Document) -> Self {
        let bytes = render(doc).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("document.pdf");
        std::fs::write(&path, &bytes).unwrap();
        Self {
            _dir: dir,
            path,
            size: bytes.len(),
        }
    }

    pub fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// The text of each page, as `pdftotext -layout` sees it.
    pub fn pages(&self) -> Vec<String> {
        let text = String::from_utf8(poppler("pdftotext", &["-layout", self.arg(), "-"])).unwrap();
        let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
        // pdftotext ends every page with a form feed, so the last piece is empty.
        assert_eq!(pages.pop().as_deref(), Some(""));
        pages
    }

    pub fn page_count(&self) -> usize {
        let info = String::from_utf8(poppler("pdfinfo", &[self.arg()])).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    }
}

pub fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}
