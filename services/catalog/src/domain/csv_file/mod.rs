//! The catalog CSV: one row per variant, rows of one product sharing its `product_slug`.
//! This module reads the header, parses each row into typed fields with per-row, per-column
//! errors, groups rows into products, and writes the same format back (export). Rules that
//! need the database (does the category exist, whose is this SKU) live in `crate::import`.
//! The columns are documented in `docs/catalog-csv.md`.

use super::price::parse_decimal;
use super::variant::{Dimensions, check_barcode, check_side, check_sku, check_weight};
use super::{check_name, check_slug, check_text};
use mercato_kernel::{Currency, Money};
use mercato_tenant_context::VendorId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod export;

pub use export::{ExportRow, write_rows};

/// Whether a column describes the product (same on each of its rows) or the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Product,
    Variant,
}

pub struct Column {
    pub name: &'static str,
    pub required: bool,
    pub level: Level,
}

const fn column(name: &'static str, required: bool, level: Level) -> Column {
    Column {
        name,
        required,
        level,
    }
}

/// Every column the format knows, in the order an export writes them.
pub const COLUMNS: &[Column] = &[
    column("vendor_id", false, Level::Product),
    column("product_slug", true, Level::Product),
    column("title", true, Level::Product),
    column("description", false, Level::Product),
    column("status", false, Level::Product),
    column("category", false, Level::Product),
    column("tags", false, Level::Product),
    column("attributes", false, Level::Product),
    column("seo_title", false, Level::Product),
    column("seo_description", false, Level::Product),
    column("option1_name", false, Level::Product),
    column("option1_value", false, Level::Variant),
    column("option2_name", false, Level::Product),
    column("option2_value", false, Level::Variant),
    column("option3_name", false, Level::Product),
    column("option3_value", false, Level::Variant),
    column("sku", true, Level::Variant),
    column("price", true, Level::Variant),
    column("currency", true, Level::Variant),
    column("compare_at_price", false, Level::Variant),
    column("weight_grams", false, Level::Variant),
    column("length_mm", false, Level::Variant),
    column("width_mm", false, Level::Variant),
    column("height_mm", false, Level::Variant),
    column("barcode", false, Level::Variant),
];

fn column_named(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// One problem with one cell (or a whole row, with the column that decides it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row's number in the file, counting the header as row 1.
    pub row: u64,
    /// The column's name (`price`), or `row` when the row as a whole is unreadable.
    pub column: String,
    pub message: String,
}

impl RowError {
    pub fn new(row: u64, column: &str, message: impl Into<String>) -> Self {
        Self {
            row,
            column: column.to_owned(),
            message: message.into(),
        }
    }
}

/// Where each known column sits in the file.
#[derive(Debug, Clone)]
pub struct Header {
    positions: BTreeMap<&'static str, usize>,
}

impl Header {
    /// Reads the header row: every name must be a known column, once; required columns
    /// must be there. Errors name the column (`/columns/<name>`).
    pub fn read(names: &[String]) -> Result<Self, Vec<(String, String)>> {
        let mut positions = BTreeMap::new();
        let mut errors = Vec::new();
        for (index, raw) in names.iter().enumerate() {
            let name = raw.trim().trim_start_matches('\u{feff}');
            match column_named(name) {
                None => errors.push((
                    format!("/columns/{name}"),
                    "unknown column; see docs/catalog-csv.md for the format".to_owned(),
                )),
                Some(column) => {
                    if positions.insert(column.name, index).is_some() {
                        errors.push((format!("/columns/{name}"), "appears twice".to_owned()));
                    }
                }
            }
        }
        for column in COLUMNS.iter().filter(|c| c.required) {
            if !positions.contains_key(column.name) {
                errors.push((
                    format!("/columns/{}", column.name),
                    "required column is missing".to_owned(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self { positions })
        } else {
            Err(errors)
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.positions.contains_key(name)
    }

    fn cell<'r>(&self, record: &'r [String], name: &str) -> &'r str {
        self.positions
            .get(name)
            .and_then(|&i| record.get(i))
            .map_or("", |s| s.trim())
    }
}

/// The product-level fields, read from a product's first row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductFields {
    pub vendor: Option<VendorId>,
    pub title: String,
    pub description: Option<String>,
    /// `status` = `active`: publish; `draft` or empty: leave as is (new products are drafts).
    pub publish: bool,
    /// A category slug.
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `code=value` pairs, checked against the shop's attributes later.
    pub attributes: Option<Vec<(String, String)>>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub option_types: Vec<String>,
}

/// The variant fields of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantFields {
    pub sku: String,
    pub price: Money,
    pub compare_at: Option<Money>,
    /// The cells option1_value..option3_value; matched to the product's option types later.
    pub option_values: [Option<String>; 3],
    pub weight_grams: Option<i64>,
    pub dimensions: Option<Dimensions>,
    pub barcode: Option<String>,
}

/// One data row, parsed.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u64,
    pub slug: String,
    /// The raw product-level cells that are not empty, to compare rows of one product.
    pub product_cells: BTreeMap<&'static str, String>,
    /// `None` when a variant cell is invalid (its errors are in `errors`).
    pub variant: Option<VariantFields>,
    pub errors: Vec<RowError>,
}

/// Rows of one product, in file order.
#[derive(Debug, Clone)]
pub struct Group {
    pub slug: String,
    pub rows: Vec<Row>,
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn integer(
    header: &Header,
    record: &[String],
    name: &str,
    row: u64,
    check: fn(i64) -> Result<(), &'static str>,
    errors: &mut Vec<RowError>,
) -> Option<i64> {
    let text = header.cell(record, name);
    if text.is_empty() {
        return None;
    }
    match text.parse::<i64>() {
        Ok(n) => match check(n) {
            Ok(()) => Some(n),
            Err(m) => {
                errors.push(RowError::new(row, name, m));
                None
            }
        },
        Err(_) => {
            errors.push(RowError::new(row, name, "a whole number"));
            None
        }
    }
}

/// Parses one data row (`number` counts the header as row 1).
pub fn parse_row(header: &Header, record: &[String], number: u64) -> Row {
    let mut errors = Vec::new();
    let slug = header.cell(record, "product_slug").to_owned();
    if let Err(m) = check_slug(&slug) {
        errors.push(RowError::new(number, "product_slug", m));
    }
    let product_cells: BTreeMap<&'static str, String> = COLUMNS
        .iter()
        .filter(|c| c.level == Level::Product && c.name != "product_slug")
        .filter_map(|c| {
            let text = header.cell(record, c.name);
            (!text.is_empty()).then(|| (c.name, text.to_owned()))
        })
        .collect();
    let variant = parse_variant(header, record, number, &mut errors);
    Row {
        number,
        slug,
        product_cells,
        variant: if errors.iter().any(|e| is_variant_column(&e.column)) {
            None
        } else {
            variant
        },
        errors,
    }
}

fn is_variant_column(name: &str) -> bool {
    column_named(name).is_some_and(|c| c.level == Level::Variant)
}

fn parse_variant(
    header: &Header,
    record: &[String],
    row: u64,
    errors: &mut Vec<RowError>,
) -> Option<VariantFields> {
    let before = errors.len();
    let sku = header.cell(record, "sku").to_owned();
    if let Err(m) = check_sku(&sku) {
        errors.push(RowError::new(row, "sku", m));
    }
    let currency = match Currency::parse(header.cell(record, "currency")) {
        Ok(c) => Some(c),
        Err(_) => {
            errors.push(RowError::new(
                row,
                "currency",
                "an ISO 4217 code such as EUR or USD",
            ));
            None
        }
    };
    let money = |name: &str, errors: &mut Vec<RowError>| -> Option<Money> {
        let text = header.cell(record, name);
        let currency = currency?;
        if text.is_empty() {
            return None;
        }
        match parse_decimal(text, currency) {
            Ok(amount) => Some(Money::new(amount, currency)),
            Err(m) => {
                errors.push(RowError::new(row, name, m));
                None
            }
        }
    };
    let price = money("price", errors);
    if price.is_none() && currency.is_some() && header.cell(record, "price").is_empty() {
        errors.push(RowError::new(row, "price", "required"));
    }
    let compare_at = money("compare_at_price", errors);
    if let (Some(price), Some(compare_at)) = (price, compare_at)
        && let Err(m) = super::price::check_compare_at(price, compare_at)
    {
        errors.push(RowError::new(row, "compare_at_price", m));
    }
    let weight_grams = integer(header, record, "weight_grams", row, check_weight, errors);
    let sides = ["length_mm", "width_mm", "height_mm"]
        .map(|name| integer(header, record, name, row, check_side, errors));
    let given = ["length_mm", "width_mm", "height_mm"]
        .iter()
        .filter(|n| !header.cell(record, n).is_empty())
        .count();
    let dimensions = match sides {
        [Some(length), Some(width), Some(height)] => Some(Dimensions {
            length,
            width,
            height,
        }),
        _ => {
            if given > 0 && given < 3 {
                errors.push(RowError::new(
                    row,
                    "length_mm",
                    "give all of length_mm, width_mm and height_mm, or none",
                ));
            }
            None
        }
    };
    let barcode = optional(header.cell(record, "barcode"));
    if let Some(code) = &barcode
        && let Err(m) = check_barcode(code)
    {
        errors.push(RowError::new(row, "barcode", m));
    }
    let mut option_values: [Option<String>; 3] = [None, None, None];
    for (i, value_column) in ["option1_value", "option2_value", "option3_value"]
        .into_iter()
        .enumerate()
    {
        let value = header.cell(record, value_column);
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > 50 || value.contains(['|', '=']) {
            errors.push(RowError::new(
                row,
                value_column,
                "1-50 characters, without `|` or `=`",
            ));
        }
        option_values[i] = Some(value.to_owned());
    }
    if errors.len() > before {
        return None;
    }
    Some(VariantFields {
        sku,
        price: price?,
        compare_at,
        option_values,
        weight_grams,
        dimensions,
        barcode,
    })
}

/// Reads the product-level fields from a product's first row's cells.
pub fn parse_product(
    cells: &BTreeMap<&'static str, String>,
    row: u64,
) -> Result<ProductFields, Vec<RowError>> {
    let mut errors = Vec::new();
    let get = |name: &str| cells.get(name).map(String::as_str).unwrap_or_default();
    let mut fields = ProductFields::default();
    if let Some(text) = cells.get("vendor_id") {
        match text.parse::<VendorId>() {
            Ok(v) => fields.vendor = Some(v),
            Err(_) => errors.push(RowError::new(row, "vendor_id", "a vendor id (ven_…)")),
        }
    }
    let title = get("title");
    match check_name(title, 200) {
        Ok(()) => fields.title = title.to_owned(),
        Err(m) => errors.push(RowError::new(
            row,
            "title",
            if title.is_empty() {
                "required on a product's first row"
            } else {
                m
            },
        )),
    }
    if let Some(text) = cells.get("description") {
        match check_text(text, 20_000) {
            Ok(()) => fields.description = Some(text.clone()),
            Err(m) => errors.push(RowError::new(row, "description", m)),
        }
    }
    match get("status") {
        "" | "draft" => {}
        "active" => fields.publish = true,
        _ => errors.push(RowError::new(row, "status", "draft or active")),
    }
    if let Some(slug) = cells.get("category") {
        match check_slug(slug) {
            Ok(()) => fields.category = Some(slug.clone()),
            Err(_) => errors.push(RowError::new(row, "category", "a category slug")),
        }
    }
    if let Some(text) = cells.get("tags") {
        let tags: Vec<String> = text.split('|').map(|t| t.trim().to_owned()).collect();
        match super::product::check_tags(&tags) {
            Ok(()) => fields.tags = Some(tags),
            Err(m) => errors.push(RowError::new(row, "tags", m)),
        }
    }
    if let Some(text) = cells.get("attributes") {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split('|') {
            match part.split_once('=') {
                Some((code, value)) if !code.trim().is_empty() => {
                    let code = code.trim().to_owned();
                    if pairs.iter().any(|(c, _)| *c == code) {
                        errors.push(RowError::new(
                            row,
                            "attributes",
                            format!("`{code}` appears twice"),
                        ));
                    }
                    pairs.push((code, value.trim().to_owned()));
                }
                _ => errors.push(RowError::new(
                    row,
                    "attributes",
                    "code=value pairs separated by `|`, e.g. colour=red|organic=true",
                )),
            }
        }
        fields.attributes = Some(pairs);
    }
    for (name, max) in [("seo_title", 200), ("seo_description", 1000)] {
        if let Some(text) = cells.get(name) {
            match check_text(text, max) {
                Ok(()) if name == "seo_title" => fields.seo_title = Some(text.clone()),
                Ok(()) => fields.seo_description = Some(text.clone()),
                Err(m) => errors.push(RowError::new(row, name, m)),
            }
        }
    }
    let names: Vec<String> = ["option1_name", "option2_name", "option3_name"]
        .iter()
        .filter_map(|n| cells.get(n).cloned())
        .collect();
    match super::product::check_option_types(&names) {
        Ok(()) => fields.option_types = names,
        Err(m) => errors.push(RowError::new(row, "option1_name", m)),
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

/// Groups rows by product, in order of each product's first row. A later row's product
/// cells must be empty or equal to the first row's; a difference is an error on that row.
pub fn group(rows: Vec<Row>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for mut row in rows {
        match index.get(&row.slug) {
            None => {
                index.insert(row.slug.clone(), groups.len());
                groups.push(Group {
                    slug: row.slug.clone(),
                    rows: vec![row],
                });
            }
            Some(&at) => {
                let group = &mut groups[at];
                let first = &group.rows[0];
                let mut differences = Vec::new();
                for (name, text) in &row.product_cells {
                    if first.product_cells.get(name) != Some(text) {
                        differences.push(RowError::new(
                            row.number,
                            name,
                            format!(
                                "differs from the product's first row ({}); leave it empty or repeat it",
                                first.number
                            ),
                        ));
                    }
                }
                row.errors.extend(differences);
                group.rows.push(row);
            }
        }
    }
    groups
}

/// The records of a CSV text: the header's names and each data row's cells. A row the
/// reader cannot split (e.g. an unclosed quote) is an error for that row.
pub fn records(text: &str) -> (Vec<String>, Vec<Result<Vec<String>, RowError>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let rows = reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let number = i as u64 + 2;
            record
                .map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| RowError::new(number, "row", format!("unreadable: {e}")))
        })
        .collect();
    (header, rows)
}

#[cfg(test)]
mod tests;
