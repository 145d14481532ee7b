//! Writing the catalog CSV: every column, in the import's format, so an export imports
//! back unchanged.

use super::COLUMNS;
use crate::domain::price::format_decimal;
use crate::domain::{Product, ProductStatus, Variant};
use mercato_tenant_context::VendorId;

/// One variant as an export row: the product's fields and the variant's.
pub struct ExportRow<'a> {
    pub vendor: VendorId,
    pub product: &'a Product,
    pub category_slug: Option<&'a str>,
    pub attributes: &'a [(String, String)],
    pub variant: &'a Variant,
}

/// Writes rows in the import format, with every column, so an export imports back as is.
pub fn write_rows<'a>(rows: impl IntoIterator<Item = ExportRow<'a>>) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS.iter().map(|c| c.name))?;
    for row in rows {
        let p = row.product;
        let v = row.variant;
        let option = |i: usize| -> (String, String) {
            match p.option_types.get(i) {
                Some(name) => (
                    name.clone(),
                    v.options.get(name).cloned().unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            }
        };
        let (o1n, o1v) = option(0);
        let (o2n, o2v) = option(1);
        let (o3n, o3v) = option(2);
        let status = match p.status {
            ProductStatus::Active | ProductStatus::PendingReview => "active",
            _ => "draft",
        };
        let record: Vec<String> = vec![
            row.vendor.to_string(),
            p.slug.clone(),
            p.title.clone(),
            p.description.clone().unwrap_or_default(),
            status.to_owned(),
            row.category_slug.unwrap_or_default().to_owned(),
            p.tags.join("|"),
            row.attributes
                .iter()
                .map(|(c, v)| format!("{c}={v}"))
                .collect::<Vec<_>>()
                .join("|"),
            p.seo.title.clone().unwrap_or_default(),
            p.seo.description.clone().unwrap_or_default(),
            o1n,
            o1v,
            o2n,
            o2v,
            o3n,
            o3v,
            v.sku.clone(),
            format_decimal(v.price),
            v.price.currency.code().to_owned(),
            v.compare_at.map(format_decimal).unwrap_or_default(),
            v.weight_grams.map(|w| w.to_string()).unwrap_or_default(),
            v.dimensions
                .map(|d| d.length.to_string())
                .unwrap_or_default(),
            v.dimensions
                .map(|d| d.width.to_string())
                .unwrap_or_default(),
            v.dimensions
                .map(|d| d.height.to_string())
                .unwrap_or_default(),
            v.barcode.clone().unwrap_or_default(),
        ];
        writer.write_record(&record)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
