//! Reading rows: the header, typed cells, per-row errors, grouping.

use super::*;

const HEADER: &str = "product_slug,title,status,tags,attributes,option1_name,option1_value,sku,price,currency,compare_at_price,weight_grams,length_mm,width_mm,height_mm,barcode";

fn parse(text: &str) -> (Header, Vec<Row>) {
    let (names, records) = records(text);
    let header = Header::read(&names).unwrap();
    let rows = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| parse_row(&header, &r.unwrap(), i as u64 + 2))
        .collect();
    (header, rows)
}

fn messages(row: &Row) -> Vec<(String, String)> {
    row.errors
        .iter()
        .map(|e| (e.column.clone(), e.message.clone()))
        .collect()
}

#[test]
fn the_header_names_known_columns_once_and_the_required_ones() {
    let names = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    assert!(Header::read(&names(HEADER)).is_ok());
    let errors = Header::read(&names("product_slug,title,sku,sku,colour,price")).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        ["/columns/sku", "/columns/colour", "/columns/currency"]
    );
    assert!(Header::read(&names("\u{feff}product_slug,title,sku,price,currency")).is_ok());
}

#[test]
fn a_good_row_parses_into_typed_fields() {
    let (_, rows) = parse(&format!(
        "{HEADER}\ngreen-tea,Green Tea,active,tea|organic,colour=green,size,100g,TEA-100,4.99,EUR,5.99,100,100,50,20,4006381333931\n"
    ));
    let row = &rows[0];
    assert!(row.errors.is_empty(), "{:?}", row.errors);
    assert_eq!(row.number, 2);
    let variant = row.variant.clone().unwrap();
    assert_eq!(variant.sku, "TEA-100");
    assert_eq!(variant.price.amount, 499);
    assert_eq!(variant.compare_at.unwrap().amount, 599);
    assert_eq!(variant.option_values, [Some("100g".to_owned()), None, None]);
    assert_eq!(variant.dimensions.unwrap().height, 20);
    let product = parse_product(&row.product_cells, row.number).unwrap();
    assert!(product.publish);
    assert_eq!(product.tags.unwrap(), vec!["tea", "organic"]);
    assert_eq!(
        product.attributes.unwrap(),
        vec![("colour".to_owned(), "green".to_owned())]
    );
    assert_eq!(product.option_types, vec!["size"]);
}

#[test]
fn bad_cells_are_reported_per_row_and_column() {
    let (_, rows) = parse(&format!(
        "{HEADER}\nBad Slug,T,,,,,,TEA 1,-4.99,EUR,,heavy,10,,,123\nok-slug,T,,,,,,TEA-2,4.999,EUR,1.00,,,,,\nok-slug,T,,,,,,TEA-3,5,XYZ,,,,,,\n"
    ));
    assert_eq!(
        messages(&rows[0]),
        vec![
            (
                "product_slug".into(),
                "2-80 lowercase letters, digits or single inner hyphens".into()
            ),
            (
                "sku".into(),
                "1-64 letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit"
                    .into()
            ),
            ("price".into(), "must not be negative".into()),
            ("weight_grams".into(), "a whole number".into()),
            (
                "length_mm".into(),
                "give all of length_mm, width_mm and height_mm, or none".into()
            ),
            ("barcode".into(), "8 to 14 digits (GTIN, EAN or UPC)".into()),
        ]
    );
    assert!(rows[0].variant.is_none());
    assert_eq!(
        messages(&rows[1]),
        vec![("price".into(), "too many decimals for this currency".into())]
    );
    assert_eq!(
        messages(&rows[2]),
        vec![(
            "currency".into(),
            "an ISO 4217 code such as EUR or USD".into()
        )]
    );
}

#[test]
fn product_fields_come_from_the_first_row_and_must_not_differ() {
    let (_, rows) = parse(&format!(
        "{HEADER}\ntea,Tea,,,,size,S,T-S,1,EUR,,,,,,\ntea,,,,,,M,T-M,1,EUR,,,,,,\ntea,Coffee,,,,,L,T-L,1,EUR,,,,,,\nother,Other,,,,,,O-1,1,EUR,,,,,,\n"
    ));
    let groups = group(rows);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].slug, "tea");
    assert_eq!(groups[0].rows.len(), 3);
    assert!(
        groups[0].rows[1].errors.is_empty(),
        "empty product cells are fine"
    );
    assert_eq!(
        messages(&groups[0].rows[2]),
        vec![(
            "title".into(),
            "differs from the product's first row (2); leave it empty or repeat it".into()
        )]
    );
    assert!(groups[1].rows[0].errors.is_empty());
}

#[test]
fn product_level_errors_name_their_column() {
    let mut cells = BTreeMap::new();
    cells.insert("status", "live".to_owned());
    cells.insert("attributes", "colour".to_owned());
    cells.insert("vendor_id", "ven_nope".to_owned());
    let errors = parse_product(&cells, 7).unwrap_err();
    let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["vendor_id", "title", "status", "attributes"]);
    assert!(errors.iter().all(|e| e.row == 7));
}

#[test]
fn an_unreadable_row_is_an_error_of_that_row() {
    let (_, records) =
        records("product_slug,title,sku,price,currency\na,b,c,1,EUR\n\"open,quote\n");
    assert!(records[0].is_ok());
    assert!(records.len() <= 2);
}
