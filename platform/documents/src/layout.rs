//! Places every piece of a [`Document`] on A4 pages, in points measured from the top-left
//! corner. The PDF writer only draws what this decides.
//!
//! The rules: the issuer's header on the first page and a running head on the others; the
//! table's header row at the top of every page the table continues on; a row that does not
//! fit before the page's bottom moves to the next page whole (only a row taller than an empty
//! page is split, line by line); the totals stay together; the footer and "Page n of m" on
//! every page.

use crate::fonts::{Faces, Weight};
use crate::model::{Align, Document, Party, Table, Total};

pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 42.5; // 15 mm
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;

const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LEADING: f32 = 1.3;
// DejaVu Sans's ascender and descender, in em: a line's baseline sits so that the glyphs are
// centred in the line's height.
const ASCENT: f32 = 0.928;
const DESCENT: f32 = 0.236;

const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 3.0;
const LOGO_MAX_WIDTH: f32 = 160.0;
const LOGO_MAX_HEIGHT: f32 = 56.0;

const TEXT: f32 = 0.0;
const MUTED: f32 = 0.35;
const RULE: f32 = 0.75;
const HEADER_FILL: f32 = 0.92;

/// A grey level from 0 (black) to 1 (white).
pub(crate) type Grey = f32;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        grey: Grey,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
        grey: Grey,
    },
    Fill {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        grey: Grey,
    },
    /// `y` is the image's top edge.
    Logo {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Page {
    pub(crate) items: Vec<Item>,
}

fn line_height(size: f32) -> f32 {
    size * LEADING
}

fn baseline(top: f32, size: f32) -> f32 {
    top + (line_height(size) - (ASCENT + DESCENT) * size) / 2.0 + ASCENT * size
}

/// A text style: face, size and grey.
#[derive(Clone, Copy)]
struct Style {
    weight: Weight,
    size: f32,
    grey: Grey,
}

const BODY_TEXT: Style = Style {
    weight: Weight::Regular,
    size: BODY,
    grey: TEXT,
};
const BODY_BOLD: Style = Style {
    weight: Weight::Bold,
    size: BODY,
    grey: TEXT,
};
const SMALL_MUTED: Style = Style {
    weight: Weight::Regular,
    size: SMALL,
    grey: MUTED,
};

struct Layout<'a> {
    doc: &'a Document,
    faces: &'a Faces,
    pages: Vec<Page>,
    /// Where the next thing goes on the current page.
    y: f32,
    /// Nothing may be drawn below this line: the footer lives there.
    bottom: f32,
    footer: Vec<String>,
}

/// Lays `doc` out. `logo` is the logo's size in pixels, when there is one.
pub(crate) fn lay_out(doc: &Document, faces: &Faces, logo: Option<(f32, f32)>) -> Vec<Page> {
    let footer = match &doc.footer {
        Some(text) => faces
            .get(Weight::Regular)
            .wrap(text, SMALL, CONTENT_WIDTH - 100.0),
        None => Vec::new(),
    };
    let footer_height = footer.len().max(1) as f32 * line_height(SMALL);
    let mut layout = Layout {
        doc,
        faces,
        pages: vec![Page::default()],
        y: MARGIN,
        bottom: PAGE_HEIGHT - MARGIN - footer_height - 10.0,
        footer,
    };
    layout.first_page_header(logo);
    layout.table(&doc.table);
    layout.totals(&doc.totals);
    layout.notes(&doc.notes);
    layout.page_footers();
    layout.pages
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Page {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text(&mut self, x: f32, top: f32, style: Style, text: String) {
        self.page().items.push(text_item(x, top, style, text));
    }

    /// Draws `text` aligned within `[x, x + width]`, one line of its style at `top`.
    fn aligned(&mut self, x: f32, width: f32, top: f32, style: Style, align: Align, text: String) {
        let text_width = self.faces.get(style.weight).width(&text, style.size);
        let x = match align {
            Align::Left => x,
            Align::Right => x + width - text_width,
            Align::Center => x + (width - text_width) / 2.0,
        };
        self.text(x, top, style, text);
    }

    /// Wraps and draws a block of text from `self.y` down, moving `self.y` under it.
    fn block(&mut self, x: f32, width: f32, style: Style, align: Align, text: &str) {
        for line in self.faces.get(style.weight).wrap(text, style.size, width) {
            let top = self.y;
            self.aligned(x, width, top, style, align, line);
            self.y += line_height(style.size);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN;
        // The running head: who issued what, so a loose page can be placed.
        let name = self.doc.issuer.name.clone();
        let title = self.doc.title.clone();
        let half = CONTENT_WIDTH / 2.0 - 4.0;
        let name = self
            .faces
            .get(Weight::Regular)
            .wrap(&name, SMALL, half)
            .swap_remove(0);
        let title = self
            .faces
            .get(Weight::Regular)
            .wrap(&title, SMALL, half)
            .swap_remove(0);
        self.aligned(MARGIN, half, MARGIN, SMALL_MUTED, Align::Left, name);
        self.aligned(RIGHT - half, half, MARGIN, SMALL_MUTED, Align::Right, title);
        self.y += line_height(SMALL) + 3.0;
        self.rule(MARGIN, RIGHT, 0.5, RULE);
        self.y += 10.0;
    }

    fn rule(&mut self, x1: f32, x2: f32, thickness: f32, grey: Grey) {
        let y = self.y;
        self.page().items.push(Item::Rule {
            x1,
            x2,
            y,
            thickness,
            grey,
        });
    }

    fn first_page_header(&mut self, logo: Option<(f32, f32)>) {
        let doc = self.doc;
        let left_width = CONTENT_WIDTH * 0.52;
        let right_width = CONTENT_WIDTH * 0.42;
        let right_x = RIGHT - right_width;

        // Left: logo, then the issuer.
        if let Some((w, h)) = logo {
            let scale = (LOGO_MAX_WIDTH / w).min(LOGO_MAX_HEIGHT / h);
            let (width, height) = (w * scale, h * scale);
            let y = self.y;
            self.page().items.push(Item::Logo {
                x: MARGIN,
                y,
                width,
                height,
            });
            self.y += height + 8.0;
        }
        self.party(&doc.issuer, MARGIN, left_width, 12.0);
        let left_bottom = self.y;

        // Right: the title and the labelled values under it.
        self.y = MARGIN;
        let title = Style {
            weight: Weight::Bold,
            size: 18.0,
            grey: TEXT,
        };
        self.block(right_x, right_width, title, Align::Right, &doc.title);
        self.y += 6.0;
        let label_width = right_width * 0.45 - 4.0;
        let value_x = right_x + right_width * 0.45;
        let value_width = right_width * 0.55;
        for (label, value) in &doc.meta {
            let top = self.y;
            self.block(
                right_x,
                label_width,
                Style {
                    grey: MUTED,
                    ..BODY_TEXT
                },
                Align::Left,
                label,
            );
            let label_bottom = self.y;
            self.y = top;
            self.block(value_x, value_width, BODY_TEXT, Align::Right, value);
            self.y = self.y.max(label_bottom);
        }

        self.y = self.y.max(left_bottom) + 14.0;
        if let Some(recipient) = &doc.recipient {
            self.party(recipient, MARGIN, left_width, 10.0);
            self.y += 14.0;
        }
    }

    fn party(&mut self, party: &Party, x: f32, width: f32, name_size: f32) {
        let name = Style {
            weight: Weight::Bold,
            size: name_size,
            grey: TEXT,
        };
        self.block(x, width, name, Align::Left, &party.name);
        self.y += 2.0;
        for line in &party.lines {
            self.block(x, width, BODY_TEXT, Align::Left, line);
        }
        if let Some(tax_id) = &party.tax_id {
            self.block(x, width, BODY_TEXT, Align::Left, tax_id);
        }
    }

    fn table(&mut self, table: &Table) {
        if table.columns.is_empty() {
            return;
        }
        let total_share: f32 = table.columns.iter().map(|c| c.share).sum();
        let mut lefts = Vec::with_capacity(table.columns.len());
        let mut x = MARGIN;
        let widths: Vec<f32> = table
            .columns
            .iter()
            .map(|c| {
                lefts.push(x);
                let width = CONTENT_WIDTH * c.share / total_share;
                x += width;
                width
            })
            .collect();
        let columns = TableColumns {
            table,
            lefts,
            widths,
        };

        let header = columns.wrap(self.faces, Weight::Bold, |i| &table.columns[i].header);
        let header_height = row_height(&header);
        let first_row_height = table
            .rows
            .first()
            .map(|row| row_height(&columns.wrap(self.faces, Weight::Regular, |i| &row[i])))
            .unwrap_or(0.0);
        // A header row alone at the bottom of a page helps no one.
        if self.y + header_height + first_row_height.min(self.usable_height()) > self.bottom {
            self.new_page();
        }
        self.header_row(&columns, &header);

        let line = line_height(BODY);
        let mut rows_on_page = 0;
        for row in &table.rows {
            let cells = columns.wrap(self.faces, Weight::Regular, |i| &row[i]);
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
            let mut from = 0;
            while from < lines {
                let needed = (lines - from) as f32 * line + 2.0 * CELL_PAD_Y;
                let to = if self.y + needed <= self.bottom {
                    lines
                } else if rows_on_page == 0 {
                    // Taller than a whole page: the only row that is split.
                    let room = ((self.bottom - self.y - 2.0 * CELL_PAD_Y) / line).floor();
                    from + (room.max(1.0) as usize).min(lines - from)
                } else {
                    self.new_page();
                    self.header_row(&columns, &header);
                    rows_on_page = 0;
                    continue;
                };
                self.row_lines(&columns, &cells, from, to, BODY_TEXT);
                self.rule(MARGIN, RIGHT, 0.4, RULE);
                rows_on_page += 1;
                from = to;
                if from < lines {
                    self.new_page();
                    self.header_row(&columns, &header);
                    rows_on_page = 0;
                }
            }
        }
    }

    /// The height left for content on a page after the running head and a table header.
    fn usable_height(&self) -> f32 {
        self.bottom - MARGIN - 60.0
    }

    fn header_row(&mut self, columns: &TableColumns<'_>, header: &[Vec<String>]) {
        let height = row_height(header);
        let y = self.y;
        self.page().items.push(Item::Fill {
            x: MARGIN,
            y,
            width: CONTENT_WIDTH,
            height,
            grey: HEADER_FILL,
        });
        let lines = header.iter().map(Vec::len).max().unwrap_or(1);
        self.row_lines(columns, header, 0, lines, BODY_BOLD);
        self.rule(MARGIN, RIGHT, 0.6, MUTED);
    }

    fn row_lines(
        &mut self,
        columns: &TableColumns<'_>,
        cells: &[Vec<String>],
        from: usize,
        to: usize,
        style: Style,
    ) {
        let top = self.y + CELL_PAD_Y;
        for (i, cell) in cells.iter().enumerate() {
            let x = columns.lefts[i] + CELL_PAD_X;
            let width = columns.widths[i] - 2.0 * CELL_PAD_X;
            let align = columns.table.columns[i].align;
            for (n, line) in cell.iter().enumerate().take(to).skip(from) {
                let line_top = top + (n - from) as f32 * line_height(style.size);
                self.aligned(x, width, line_top, style, align, line.clone());
            }
        }
        self.y += (to - from) as f32 * line_height(style.size) + 2.0 * CELL_PAD_Y;
    }

    fn totals(&mut self, totals: &[Total]) {
        if totals.is_empty() {
            return;
        }
        let width = CONTENT_WIDTH * 0.45;
        let x = RIGHT - width;
        let label_width = width * 0.6 - 4.0;
        let value_x = x + width * 0.6;
        let value_width = width * 0.4;
        let face = self.faces.get(Weight::Bold);
        let heights: Vec<f32> = totals
            .iter()
            .map(|t| {
                let lines = face
                    .wrap(&t.label, BODY, label_width)
                    .len()
                    .max(face.wrap(&t.value, BODY, value_width).len());
                lines as f32 * line_height(BODY) + 4.0
            })
            .collect();
        let height: f32 = heights.iter().sum::<f32>() + 8.0;
        if self.y + height > self.bottom {
            self.new_page();
        }
        self.y += 8.0;
        for total in totals {
            let style = if total.strong { BODY_BOLD } else { BODY_TEXT };
            if total.strong {
                self.rule(x, RIGHT, 0.8, TEXT);
            }
            self.y += 2.0;
            let top = self.y;
            self.block(x, label_width, style, Align::Left, &total.label);
            let label_bottom = self.y;
            self.y = top;
            self.block(value_x, value_width, style, Align::Right, &total.value);
            self.y = self.y.max(label_bottom) + 2.0;
        }
    }

    fn notes(&mut self, notes: &[String]) {
        if notes.is_empty() {
            return;
        }
        self.y += 14.0;
        for note in notes {
            for line in self
                .faces
                .get(Weight::Regular)
                .wrap(note, BODY, CONTENT_WIDTH)
            {
                if self.y + line_height(BODY) > self.bottom {
                    self.new_page();
                }
                let top = self.y;
                self.text(MARGIN, top, BODY_TEXT, line);
                self.y += line_height(BODY);
            }
            self.y += 4.0;
        }
    }

    fn page_footers(&mut self) {
        let count = self.pages.len();
        let footer = std::mem::take(&mut self.footer);
        for index in 0..count {
            self.y = self.bottom + 6.0;
            let top = self.y + 4.0;
            let rule = Item::Rule {
                x1: MARGIN,
                x2: RIGHT,
                y: self.y,
                thickness: 0.4,
                grey: RULE,
            };
            let label = self
                .doc
                .page_label
                .replace("{page}", &(index + 1).to_string())
                .replace("{pages}", &count.to_string());
            let label_x = RIGHT - self.faces.get(Weight::Regular).width(&label, SMALL);
            let mut items = vec![rule, text_item(label_x, top, SMALL_MUTED, label)];
            for (n, line) in footer.iter().enumerate() {
                let line_top = top + n as f32 * line_height(SMALL);
                items.push(text_item(MARGIN, line_top, SMALL_MUTED, line.clone()));
            }
            self.pages[index].items.extend(items);
        }
    }
}

fn text_item(x: f32, top: f32, style: Style, text: String) -> Item {
    Item::Text {
        x,
        y: baseline(top, style.size),
        size: style.size,
        weight: style.weight,
        grey: style.grey,
        text,
    }
}

struct TableColumns<'a> {
    table: &'a Table,
    lefts: Vec<f32>,
    widths: Vec<f32>,
}

impl TableColumns<'_> {
    /// Each cell wrapped to its column's width.
    fn wrap<'t>(
        &self,
        faces: &Faces,
        weight: Weight,
        cell: impl Fn(usize) -> &'t String,
    ) -> Vec<Vec<String>> {
        let face = faces.get(weight);
        self.widths
            .iter()
            .enumerate()
            .map(|(i, width)| face.wrap(cell(i), BODY, width - 2.0 * CELL_PAD_X))
            .collect()
    }
}

fn row_height(cells: &[Vec<String>]) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
    lines as f32 * line_height(BODY) + 2.0 * CELL_PAD_Y
}
