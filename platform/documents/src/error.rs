/// Why a document could not be rendered. A description the caller built wrongly is told
/// apart from a fault of this crate's own (an embedded font that does not parse).
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the table has {rows} rows but no columns")]
    NoColumns { rows: usize },
    #[error("column {column} has width share {share}; shares must be positive and finite")]
    ColumnShare { column: usize, share: f32 },
    #[error("table row {row} has {found} cells; the table has {expected} columns")]
    RowWidth {
        row: usize,
        expected: usize,
        found: usize,
    },
    #[error("the logo cannot be used: {reason}")]
    Logo { reason: String },
    #[error("the embedded font {font} cannot be used: {reason}")]
    Font { font: &'static str, reason: String },
    #[error("the pdf writer failed: {reason}")]
    Pdf { reason: String },
}
