//! The embedded fonts, measured for layout and subset for embedding.
//!
//! DejaVu Sans covers Latin, Greek and Cyrillic, so shop names, addresses and product titles
//! in those scripts print as written; its licence (fonts/LICENSE-DejaVu.txt) allows
//! embedding. printpdf subsets fonts only with its `text_layout` feature, which this crate
//! leaves off (ADR 0037), so each document embeds a subset made here with allsorts: a
//! one-page invoice is about 37 KB, where the two whole faces alone would add about 740 KB.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use printpdf::ParsedFont;

use crate::DocumentError;

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    fn font_name(self) -> &'static str {
        match self {
            Weight::Regular => "DejaVu Sans",
            Weight::Bold => "DejaVu Sans Bold",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        }
    }
}

/// One face with its advance widths, parsed from the embedded file.
pub(crate) struct Face {
    weight: Weight,
    glyphs: BTreeMap<u32, u16>,
    advances: BTreeMap<u16, u16>,
    units_per_em: f32,
}

impl Face {
    fn load(weight: Weight) -> Result<Self, DocumentError> {
        let parsed = parse(weight, weight.bytes())?;
        Ok(Self {
            weight,
            glyphs: parsed.codepoint_to_glyph,
            advances: parsed.glyph_widths,
            units_per_em: f32::from(parsed.units_per_em.max(1)),
        })
    }

    fn glyph(&self, c: char) -> u16 {
        // A character the font lacks is drawn (and measured) as glyph 0, the empty box.
        self.glyphs.get(&u32::from(c)).copied().unwrap_or(0)
    }

    /// The advance width of `text` at `size` points, without kerning (the PDF is written
    /// without it too, so what is measured is what is drawn).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.advances.get(&self.glyph(c)).copied().unwrap_or(0)))
            .sum();
        units as f32 * size / self.units_per_em
    }

    /// Breaks `text` into lines no wider than `max_width`: at spaces where it can, inside a
    /// word only when the word alone is too wide. A newline always starts a new line; an
    /// empty text is one empty line.
    pub(crate) fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        let space = self.width(" ", size);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_width = 0.0;
            for word in paragraph.split_whitespace() {
                let word_width = self.width(word, size);
                let gap = if line.is_empty() { 0.0 } else { space };
                if line_width + gap + word_width <= max_width {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_width += gap + word_width;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                for c in word.chars() {
                    let c_width = self.width(c.encode_utf8(&mut [0; 4]), size);
                    if line_width + c_width > max_width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_width = 0.0;
                    }
                    line.push(c);
                    line_width += c_width;
                }
            }
            lines.push(line);
        }
        lines
    }

    /// A font holding only the glyphs for `chars`, ready for `PdfDocument::add_font`.
    pub(crate) fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, DocumentError> {
        let weight = self.weight;
        let failed = |reason: String| DocumentError::Font {
            font: weight.font_name(),
            reason,
        };
        // allsorts wants .notdef first and no glyph twice.
        let glyphs: BTreeSet<u16> = chars.iter().map(|&c| self.glyph(c)).collect();
        let ids: Vec<u16> = std::iter::once(0)
            .chain(glyphs.into_iter().filter(|&g| g != 0))
            .collect();
        let font_data = ReadScope::new(weight.bytes())
            .read::<FontData<'_>>()
            .map_err(|e| failed(e.to_string()))?;
        let provider = font_data
            .table_provider(0)
            .map_err(|e| failed(e.to_string()))?;
        let bytes = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| failed(e.to_string()))?;
        parse(weight, &bytes)
    }
}

fn parse(weight: Weight, bytes: &[u8]) -> Result<ParsedFont, DocumentError> {
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or_else(|| DocumentError::Font {
        font: weight.font_name(),
        reason: format!("it does not parse: {warnings:?}"),
    })
}

/// Both faces a document is set in.
pub(crate) struct Faces {
    regular: Face,
    bold: Face,
}

impl Faces {
    fn load() -> Result<Self, DocumentError> {
        Ok(Self {
            regular: Face::load(Weight::Regular)?,
            bold: Face::load(Weight::Bold)?,
        })
    }

    /// Both faces, parsed once per process: parsing the two whole font files is the
    /// dearest step of a render, and their widths never change.
    pub(crate) fn shared() -> Result<&'static Self, DocumentError> {
        static FACES: OnceLock<Faces> = OnceLock::new();
        if let Some(faces) = FACES.get() {
            return Ok(faces);
        }
        let loaded = Self::load()?;
        Ok(FACES.get_or_init(|| loaded))
    }

    pub(crate) fn get(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font() {
        let faces = Faces::load().unwrap();
        let regular = faces.get(Weight::Regular);
        // DejaVu Sans: digits are all 1303 units of 2048; "i" is narrower than "W".
        assert!((regular.width("0", 10.0) - 1303.0 * 10.0 / 2048.0).abs() < 1e-3);
        assert_eq!(regular.width("1234", 10.0), regular.width("9999", 10.0));
        assert!(regular.width("i", 10.0) < regular.width("W", 10.0));
        assert!(faces.get(Weight::Bold).width("Москва", 10.0) > regular.width("Москва", 10.0));
    }

    #[test]
    fn wrap_breaks_at_spaces_and_inside_words_only_when_needed() {
        let faces = Faces::load().unwrap();
        let face = faces.get(Weight::Regular);
        let width = face.width("Straße in Αθήνα", 9.0);
        let lines = face.wrap("Straße in Αθήνα und Москва", 9.0, width + 0.1);
        assert_eq!(lines, ["Straße in Αθήνα", "und Москва"]);
        let long = face.wrap(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            9.0,
            face.width("ABCDEFGHIJ", 9.0),
        );
        assert_eq!(long.concat(), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        assert!(long.len() >= 3);
        assert!(
            long.iter()
                .all(|l| face.width(l, 9.0) <= face.width("ABCDEFGHIJ", 9.0))
        );
        assert_eq!(face.wrap("one\n\ntwo", 9.0, 500.0), ["one", "", "two"]);
        assert_eq!(face.wrap("", 9.0, 500.0), [""]);
    }

    #[test]
    fn a_subset_keeps_the_glyphs_and_widths_it_was_asked_for() {
        let faces = Faces::load().unwrap();
        let face = faces.get(Weight::Regular);
        let chars: BTreeSet<char> = "Müller Αθήνα Москва 0123".chars().collect();
        let subset = face.subset(&chars).unwrap();
        assert!(subset.original_bytes.len() < REGULAR.len() / 10);
        for c in &chars {
            let gid = subset.lookup_glyph_index(u32::from(*c)).unwrap();
            let width = subset.get_glyph_width(gid).unwrap();
            assert_eq!(
                Some(width),
                face.advances.get(&face.glyph(*c)).copied(),
                "{c}"
            );
        }
    }
}
