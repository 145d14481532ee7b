//! Renders documents and reads them back with poppler (Debian package `poppler-utils`):
//! `pdftotext -layout` for the text, `pdfinfo` for the page count, `pdftoppm` to prove a
//! viewer can draw the pages.
//! (The modules are `cfg(test)` so clippy treats their helpers as test code too.)

#[cfg(test)]
mod render;
#[cfg(test)]
mod support;
