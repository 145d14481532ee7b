//! The plain data a document is described with. Every cell is a string: formatting money,
//! dates and quantities is the caller's job (they know the shop's locale and currency).

/// A document to render: an invoice, a credit note, a report, a packing slip.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Shown large at the top right of the first page and in the running head of the others
    /// ("Invoice", "Rechnung", "Sales by vendor"). Also the PDF's title.
    pub title: String,
    /// Who issues the document: the shop or the vendor.
    pub issuer: Party,
    /// Who it is addressed to, if anyone (a report has no recipient).
    pub recipient: Option<Party>,
    /// Labelled values under the title: number, dates, order reference, generated-at.
    pub meta: Vec<(String, String)>,
    pub table: Table,
    /// Printed right-aligned under the table, kept together on one page.
    pub totals: Vec<Total>,
    /// Paragraphs after the totals (payment terms, legal notes).
    pub notes: Vec<String>,
    /// Small print at the bottom of every page (bank details, registered office).
    pub footer: Option<String>,
    /// The issuer's logo as PNG bytes, drawn at the top left of the first page.
    pub logo: Option<Vec<u8>>,
    /// The page number on every page; `{page}` and `{pages}` are replaced
    /// (default "Page {page} of {pages}").
    pub page_label: String,
}

impl Default for Document {
    fn default() -> Self {
        Self {
            title: String::new(),
            issuer: Party::default(),
            recipient: None,
            meta: Vec::new(),
            table: Table::default(),
            totals: Vec::new(),
            notes: Vec::new(),
            footer: None,
            logo: None,
            page_label: "Page {page} of {pages}".to_owned(),
        }
    }
}

/// A name with its postal address, as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// Address lines in the order they are printed (street, postcode and city, country).
    pub lines: Vec<String>,
    /// Printed as given under the address, label included ("VAT ID DE123456789").
    pub tax_id: Option<String>,
}

/// Rows of cells under a header row; the header row is repeated on every page the table
/// continues on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    /// One string per column in each row; a cell wraps onto more lines when it is too wide.
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    /// The column's part of the page width, relative to the other columns' shares.
    pub share: f32,
    pub align: Align,
}

impl Column {
    pub fn left(header: impl Into<String>, share: f32) -> Self {
        Self {
            header: header.into(),
            share,
            align: Align::Left,
        }
    }

    /// A column of numbers or amounts.
    pub fn right(header: impl Into<String>, share: f32) -> Self {
        Self {
            header: header.into(),
            share,
            align: Align::Right,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One line of the totals block ("Subtotal", "VAT 19 %", "Total").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub label: String,
    pub value: String,
    /// Printed bold with a rule above it: the amount that is due.
    pub strong: bool,
}

impl Total {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            strong: false,
        }
    }

    pub fn strong(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            strong: true,
        }
    }
}
