//! PDF documents: invoices and credit notes now, reports and shipping labels next.
//!
//! It owns the layout of a business document on A4 pages and publishes [`render`], which
//! turns a plain [`Document`] (issuer with logo, recipient, labelled values, a [`Table`],
//! [`Total`]s, notes, a footer) into PDF bytes: text set in the embedded DejaVu Sans (Latin,
//! Greek, Cyrillic; subset per document), long tables continued across pages under a
//! repeated header row, "Page n of m" on every page. It consumes nothing but its argument:
//! no I/O, no clock, no logging; every cell is a string the caller formatted.
//!
//! Rendering is CPU work (milliseconds per page): call it from a job, store the bytes, and let
//! the API serve the stored file. Never render inside an HTTP handler (ADR 0037).

mod error;
mod fonts;
mod layout;
mod model;
mod pdf;

pub use error::DocumentError;
pub use model::{Align, Column, Document, Party, Table, Total};

/// The widest and tallest logo accepted, in pixels; it is drawn at most 160 × 56 pt.
pub const MAX_LOGO_PIXELS: u32 = 4096;

/// Renders `doc` as a PDF.
pub fn render(doc: &Document) -> Result<Vec<u8>, DocumentError> {
    check_table(&doc.table)?;
    let logo = doc.logo.as_deref().map(decode_logo).transpose()?;
    let faces = fonts::Faces::shared()?;
    let logo_size = logo
        .as_ref()
        .map(|image| (image.width as f32, image.height as f32));
    let pages = layout::lay_out(doc, faces, logo_size);
    pdf::write(&doc.title, &pages, faces, logo.as_ref())
}

fn check_table(table: &Table) -> Result<(), DocumentError> {
    if table.columns.is_empty() && !table.rows.is_empty() {
        return Err(DocumentError::NoColumns {
            rows: table.rows.len(),
        });
    }
    for (column, c) in table.columns.iter().enumerate() {
        if !(c.share.is_finite() && c.share > 0.0) {
            return Err(DocumentError::ColumnShare {
                column,
                share: c.share,
            });
        }
    }
    let expected = table.columns.len();
    for (row, cells) in table.rows.iter().enumerate() {
        if cells.len() != expected {
            return Err(DocumentError::RowWidth {
                row,
                expected,
                found: cells.len(),
            });
        }
    }
    Ok(())
}

fn decode_logo(bytes: &[u8]) -> Result<printpdf::RawImage, DocumentError> {
    // Read the size from the PNG header before decoding, so a huge image is refused
    // without allocating its pixels.
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let failed = |reason: String| DocumentError::Logo { reason };
    if bytes.len() < 24 || !bytes.starts_with(SIGNATURE) || &bytes[12..16] != b"IHDR" {
        return Err(failed("it is not a PNG image".to_owned()));
    }
    let dimension =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let (width, height) = (dimension(16), dimension(20));
    if width == 0 || height == 0 || width > MAX_LOGO_PIXELS || height > MAX_LOGO_PIXELS {
        return Err(failed(format!(
            "it is {width} × {height} pixels; at most {MAX_LOGO_PIXELS} × {MAX_LOGO_PIXELS} are accepted"
        )));
    }
    let mut warnings = Vec::new();
    printpdf::RawImage::decode_from_bytes(bytes, &mut warnings).map_err(failed)
}
