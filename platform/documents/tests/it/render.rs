//! Invoices and reports rendered and read back: scripts, page breaks, page numbers, fonts.

use mercato_documents::{Column, Document, DocumentError, Party, Table, Total, render};

use crate::support::{Rendered, only_file, poppler};

const LOGO: &[u8] = include_bytes!("../fixtures/logo.png");

fn shop() -> Party {
    Party {
        name: "Müller & Söhne Feinkost".to_owned(),
        lines: vec![
            "Große Straße 12".to_owned(),
            "10115 Berlin".to_owned(),
            "Germany".to_owned(),
        ],
        tax_id: Some("VAT ID DE123456789".to_owned()),
    }
}

fn invoice(rows: Vec<Vec<String>>) -> Document {
    Document {
        title: "Invoice".to_owned(),
        issuer: shop(),
        recipient: Some(Party {
            name: "Ελένη Παπαδοπούλου".to_owned(),
            lines: vec![
                "Οδός Ερμού 5".to_owned(),
                "105 63 Αθήνα".to_owned(),
                "Greece".to_owned(),
            ],
            tax_id: None,
        }),
        meta: vec![
            ("Invoice no.".to_owned(), "INV-2026-00042".to_owned()),
            ("Date".to_owned(), "2026-12-07".to_owned()),
            ("Order".to_owned(), "ORD-7F3A".to_owned()),
        ],
        table: Table {
            columns: vec![
                Column::left("Description", 5.0),
                Column::right("Qty", 1.0),
                Column::right("Unit price", 1.6),
                Column::right("Amount", 1.6),
            ],
            rows,
        },
        totals: vec![
            Total::new("Subtotal", "1 244,55 €"),
            Total::new("VAT 19 %", "236,46 €"),
            Total::strong("Total due", "1 481,01 €"),
        ],
        notes: vec![
            "Payment within 14 days to the account below. Доставка в Москва по договорённости."
                .to_owned(),
        ],
        footer: Some("Müller & Söhne Feinkost GmbH · IBAN DE02 1203 0000 0000 2020 51".to_owned()),
        logo: Some(LOGO.to_vec()),
        ..Document::default()
    }
}

fn cells(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|&c| c.to_owned()).collect()
}

#[test]
fn latin_greek_and_cyrillic_come_back_as_text() {
    let doc = invoice(vec![
        cells(&["Bergkäse aus der Straße, 1 kg", "2", "24,90 €", "49,80 €"]),
        cells(&["Μέλι από την Αθήνα", "3", "9,99 €", "29,97 €"]),
        cells(&["Чай «Москва», 250 г", "10", "116,48 €", "1 164,78 €"]),
    ]);
    let rendered = Rendered::new(&doc);
    let pages = rendered.pages();
    assert_eq!(pages.len(), 1);
    let text = &pages[0];
    for word in [
        "Müller",
        "Straße",
        "Söhne",
        "Αθήνα",
        "Ελένη Παπαδοπούλου",
        "Москва",
        "Доставка",
        "INV-2026-00042",
        "Total due",
        "1 481,01 €",
        "IBAN DE02",
        "Page 1 of 1",
    ] {
        assert!(text.contains(word), "{word:?} missing from:\n{text}");
    }
    // Amounts are right-aligned: their last characters line up in the layout text.
    let ends: Vec<usize> = ["49,80 €", "29,97 €", "1 164,78 €"]
        .iter()
        .map(|amount| {
            let line = text
                .lines()
                .find(|l| l.trim_end().ends_with(amount))
                .unwrap();
            line.trim_end().chars().count()
        })
        .collect();
    assert!(
        ends.iter().all(|&e| e == ends[0]),
        "amount columns end at {ends:?}:\n{text}"
    );
}

#[test]
fn a_long_table_continues_across_pages_with_its_header_and_loses_no_row() {
    let rows = (1..=200)
        .map(|n| {
            // Every tenth row takes three lines; a row never starts on one page and ends on
            // the next.
            let description = if n % 10 == 0 {
                format!("Item {n:03}\nsecond line of {n:03}\nthird line of {n:03}")
            } else {
                format!("Item {n:03} Bergkäse")
            };
            vec![
                description,
                n.to_string(),
                "1,00 €".to_owned(),
                format!("{n},00 €"),
            ]
        })
        .collect();
    let rendered = Rendered::new(&invoice(rows));
    let pages = rendered.pages();
    let count = rendered.page_count();
    assert_eq!(pages.len(), count);
    assert!(count >= 4, "200 rows on {count} pages");

    for (index, page) in pages.iter().enumerate() {
        let label = format!("Page {} of {count}", index + 1);
        assert!(
            page.contains(&label),
            "page {} has no {label:?}:\n{page}",
            index + 1
        );
        let header = page
            .lines()
            .find(|l| l.contains("Description"))
            .unwrap_or_else(|| {
                panic!("page {} has no table header:\n{page}", index + 1);
            });
        for column in ["Qty", "Unit price", "Amount"] {
            assert!(
                header.contains(column),
                "page {} header {header:?}",
                index + 1
            );
        }
    }
    let all = pages.concat();
    for n in 1..=200 {
        let label = format!("Item {n:03}");
        assert_eq!(
            all.matches(&label).count(),
            1,
            "{label} appears {} times",
            all.matches(&label).count()
        );
        if n % 10 == 0 {
            let page = pages.iter().find(|p| p.contains(&label)).unwrap();
            assert!(
                page.contains(&format!("third line of {n:03}")),
                "row {n} was split"
            );
        }
    }
    // The totals and notes come after the last row.
    let last = pages.last().unwrap();
    let row_200 = all.find("Item 200").unwrap();
    assert!(all.find("Total due").unwrap() > row_200);
    assert!(last.contains("Total due") && last.contains("Доставка"));
    // Only the first page carries the recipient's address.
    assert!(pages[0].contains("Οδός Ερμού 5"));
    assert!(pages[1..].iter().all(|p| !p.contains("Οδός Ερμού 5")));
}

#[test]
fn a_row_taller_than_a_page_is_split_line_by_line() {
    let tall: String = (1..=150).map(|n| format!("note line {n:03}\n")).collect();
    let doc = invoice(vec![
        cells(&["Item before", "1", "1,00 €", "1,00 €"]),
        vec![
            tall,
            "1".to_owned(),
            "2,00 €".to_owned(),
            "2,00 €".to_owned(),
        ],
        cells(&["Item after", "1", "3,00 €", "3,00 €"]),
    ]);
    let rendered = Rendered::new(&doc);
    let all = rendered.pages().concat();
    assert!(rendered.page_count() >= 3);
    for n in 1..=150 {
        assert_eq!(
            all.matches(&format!("note line {n:03}")).count(),
            1,
            "line {n}"
        );
    }
    assert!(all.find("Item after").unwrap() > all.find("note line 150").unwrap());
}

#[test]
fn pdftoppm_draws_the_first_page() {
    let rendered = Rendered::new(&invoice(vec![cells(&["Чай", "1", "9,99 €", "9,99 €"])]));
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            rendered.arg(),
            prefix.to_str().unwrap(),
        ],
    );
    let png = only_file(dir.path());
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    // A4 at 50 dpi: 413.4 × 584.6 pixels, which poppler rounds up.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(
        (413..=414).contains(&width) && (584..=585).contains(&height),
        "{width} × {height}"
    );
    assert!(bytes.len() > 2_000, "a blank page? {} bytes", bytes.len());
}

#[test]
fn fonts_are_embedded_as_subsets() {
    let rendered = Rendered::new(&invoice(vec![cells(&["Чай", "1", "9,99 €", "9,99 €"])]));
    // DejaVu Sans and Sans Bold are 1.4 MB whole; the subsets of a one-page invoice are a few KB.
    assert!(rendered.size < 60_000, "{} bytes", rendered.size);
    let fonts = String::from_utf8(poppler("pdffonts", &[rendered.arg()])).unwrap();
    assert_eq!(
        fonts.lines().filter(|l| l.contains("CID TrueType")).count(),
        2,
        "{fonts}"
    );
    assert!(
        fonts.lines().skip(2).all(|l| l.contains(" yes ")),
        "not all embedded:\n{fonts}"
    );
}

#[test]
fn a_document_without_recipient_logo_or_totals_renders() {
    let doc = Document {
        title: "Sales by vendor".to_owned(),
        issuer: Party {
            name: "Acme Marketplace".to_owned(),
            ..Party::default()
        },
        meta: vec![("Generated at".to_owned(), "2026-12-07 11:40 UTC".to_owned())],
        table: Table {
            columns: vec![Column::left("Vendor", 3.0), Column::right("Orders", 1.0)],
            rows: vec![cells(&["Nordic Tea", "12"]), cells(&["", ""])],
        },
        page_label: "Seite {page} von {pages}".to_owned(),
        ..Document::default()
    };
    let pages = Rendered::new(&doc).pages();
    assert!(
        pages[0].contains("Nordic Tea") && pages[0].contains("Seite 1 von 1"),
        "{}",
        pages[0]
    );
}

#[test]
fn a_malformed_description_is_refused() {
    let mut doc = invoice(vec![cells(&["only two", "cells"])]);
    assert!(matches!(
        render(&doc),
        Err(DocumentError::RowWidth {
            row: 0,
            expected: 4,
            found: 2
        })
    ));

    doc.table.rows.clear();
    doc.table.columns[1].share = 0.0;
    assert!(matches!(
        render(&doc),
        Err(DocumentError::ColumnShare { column: 1, .. })
    ));

    let mut doc = invoice(Vec::new());
    doc.logo = Some(b"GIF89a not a png".to_vec());
    assert!(matches!(render(&doc), Err(DocumentError::Logo { .. })));
    let mut huge = LOGO.to_vec();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    doc.logo = Some(huge);
    assert!(matches!(render(&doc), Err(DocumentError::Logo { .. })));
}
