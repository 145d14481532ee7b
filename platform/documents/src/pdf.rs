//! Draws laid-out pages with printpdf: one subset font per face used, the logo as an image
//! object, and each text item in its own text object (printpdf's text cursor moves relative
//! to the line start, so absolute positions need a fresh `BT` each).

use std::collections::{BTreeMap, BTreeSet};

use printpdf::{
    Color, CurTransMat, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfDocument,
    PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, RawImage, Rect,
    TextItem, XObjectId, XObjectTransform,
};

use crate::DocumentError;
use crate::fonts::{Faces, Weight};
use crate::layout::{Item, PAGE_HEIGHT, Page};

pub(crate) fn write(
    title: &str,
    pages: &[Page],
    faces: &Faces,
    logo: Option<&RawImage>,
) -> Result<Vec<u8>, DocumentError> {
    let mut pdf = PdfDocument::new(title);

    let mut used: BTreeMap<Weight, BTreeSet<char>> = BTreeMap::new();
    for item in pages.iter().flat_map(|p| &p.items) {
        if let Item::Text { weight, text, .. } = item {
            used.entry(*weight).or_default().extend(text.chars());
        }
    }
    let mut fonts = BTreeMap::new();
    for (weight, chars) in &used {
        let font = faces.get(*weight).subset(chars)?;
        fonts.insert(*weight, pdf.add_font(&font));
    }
    let logo = logo.map(|image| {
        (
            pdf.add_image(image),
            image.width as f32,
            image.height as f32,
        )
    });

    let pdf_pages = pages
        .iter()
        .map(|page| PdfPage::new(Mm(210.0), Mm(297.0), page_ops(page, &fonts, logo.as_ref())))
        .collect();
    let mut warnings = Vec::new();
    let bytes = pdf
        .with_pages(pdf_pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if let Some(error) = warnings
        .iter()
        .find(|w| w.severity == PdfParseErrorSeverity::Error)
    {
        return Err(DocumentError::Pdf {
            reason: error.msg.clone(),
        });
    }
    Ok(bytes)
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

fn point(x: f32, y_from_top: f32) -> Point {
    Point {
        x: Pt(x),
        y: Pt(PAGE_HEIGHT - y_from_top),
    }
}

fn page_ops(
    page: &Page,
    fonts: &BTreeMap<Weight, FontId>,
    logo: Option<&(XObjectId, f32, f32)>,
) -> Vec<Op> {
    let mut ops = Vec::new();
    for item in &page.items {
        match item {
            Item::Text {
                x,
                y,
                size,
                weight,
                grey: level,
                text,
            } => {
                let Some(font) = fonts.get(weight) else {
                    continue;
                };
                ops.extend([
                    Op::StartTextSection,
                    Op::SetFillColor { col: grey(*level) },
                    Op::SetFont {
                        font: PdfFontHandle::External(font.clone()),
                        size: Pt(*size),
                    },
                    Op::SetTextCursor { pos: point(*x, *y) },
                    Op::ShowText {
                        items: vec![TextItem::Text(text.clone())],
                    },
                    Op::EndTextSection,
                ]);
            }
            Item::Rule {
                x1,
                x2,
                y,
                thickness,
                grey: level,
            } => {
                ops.extend([
                    Op::SetOutlineColor { col: grey(*level) },
                    Op::SetOutlineThickness { pt: Pt(*thickness) },
                    Op::DrawLine {
                        line: Line {
                            points: vec![
                                LinePoint {
                                    p: point(*x1, *y),
                                    bezier: false,
                                },
                                LinePoint {
                                    p: point(*x2, *y),
                                    bezier: false,
                                },
                            ],
                            is_closed: false,
                        },
                    },
                ]);
            }
            Item::Fill {
                x,
                y,
                width,
                height,
                grey: level,
            } => {
                let mut rectangle = Rect::from_xywh(
                    Pt(*x),
                    Pt(PAGE_HEIGHT - y - height),
                    Pt(*width),
                    Pt(*height),
                );
                rectangle.mode = Some(PaintMode::Fill);
                ops.extend([
                    Op::SetFillColor { col: grey(*level) },
                    Op::DrawRectangle { rectangle },
                ]);
            }
            Item::Logo {
                x,
                y,
                width,
                height,
            } => {
                let Some((id, pixels_wide, _)) = logo else {
                    continue;
                };
                // At 72 dpi one pixel is one point; then scale to the laid-out width. The
                // translation comes first and on its own, so the scale does not move it.
                let scale = width / pixels_wide;
                ops.extend([
                    Op::SaveGraphicsState,
                    Op::SetTransformationMatrix {
                        matrix: CurTransMat::Translate(Pt(*x), Pt(PAGE_HEIGHT - y - height)),
                    },
                    Op::UseXobject {
                        id: id.clone(),
                        transform: XObjectTransform {
                            scale_x: Some(scale),
                            scale_y: Some(scale),
                            dpi: Some(72.0),
                            ..XObjectTransform::default()
                        },
                    },
                    Op::RestoreGraphicsState,
                ]);
            }
        }
    }
    ops
}
