//! The embedded index's schema, its two text analyzers, and how a [`ProductDocument`]
//! becomes a tantivy document.
//!
//! Text is indexed twice. The *stemmed* fields (`title`, `tags`, `vendor_name`,
//! `attribute_text`, `description`) carry term frequencies for BM25 and drop English stop
//! words, so "running shoes" finds "Run Shoe". The *plain* fields (`title_plain`, and
//! `all_plain` with every searchable text) keep whole lower-cased words, stop words
//! included, without frequencies: typo (Levenshtein) and prefix matching run there, on the
//! words as written rather than on stems.

use crate::document::{ProductDocument, attribute_pair};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};
use tantivy::{Index, TantivyDocument};

/// Bumped whenever the schema or the analyzers change: a new version lives in a directory of
/// its own and starts empty (catalog then reindexes, seeing [`crate::SearchIndex::count`] 0).
pub(crate) const SCHEMA_VERSION: &str = "products-v1";

pub(crate) const STEMMED: &str = "mercato_stemmed";
pub(crate) const PLAIN: &str = "mercato_plain";

/// Fast-field names, used by sorting and facet collection.
pub(crate) const PRICE_MIN: &str = "price_min";
pub(crate) const CREATED_AT: &str = "created_at";
pub(crate) const CATEGORY: &str = "category";
pub(crate) const VENDOR: &str = "vendor";
pub(crate) const ATTRIBUTE: &str = "attribute";
pub(crate) const IN_STOCK: &str = "in_stock";

/// Words longer than this are dropped from the index and from queries.
const MAX_WORD_BYTES: usize = 40;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// `<shop>_<product>`: the unit of replacement and deletion.
    pub key: Field,
    pub tenant: Field,
    pub product_id: Field,
    pub slug: Field,
    pub title: Field,
    pub description: Field,
    pub tags: Field,
    pub vendor_name: Field,
    pub attribute_text: Field,
    pub title_plain: Field,
    pub all_plain: Field,
    pub category: Field,
    pub vendor: Field,
    pub attribute: Field,
    pub price_min: Field,
    pub price_max: Field,
    pub created_at: Field,
    pub in_stock: Field,
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let stemmed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEMMED)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let plain = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(PLAIN)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        let keyword = STRING.set_fast("raw");
        let fields = Fields {
            key: builder.add_text_field("key", STRING),
            tenant: builder.add_text_field("tenant", STRING),
            product_id: builder.add_text_field("product_id", STORED),
            slug: builder.add_text_field("slug", STORED),
            title: builder.add_text_field("title", stemmed.clone().set_stored()),
            description: builder.add_text_field("description", stemmed.clone()),
            tags: builder.add_text_field("tags", stemmed.clone()),
            vendor_name: builder.add_text_field("vendor_name", stemmed.clone()),
            attribute_text: builder.add_text_field("attribute_text", stemmed),
            title_plain: builder.add_text_field("title_plain", plain.clone()),
            all_plain: builder.add_text_field("all_plain", plain),
            category: builder.add_text_field(CATEGORY, keyword.clone()),
            vendor: builder.add_text_field(VENDOR, keyword.clone()),
            attribute: builder.add_text_field(ATTRIBUTE, keyword),
            price_min: builder.add_i64_field(PRICE_MIN, INDEXED | tantivy::schema::FAST),
            price_max: builder.add_i64_field("price_max", INDEXED | tantivy::schema::FAST),
            created_at: builder.add_i64_field(CREATED_AT, tantivy::schema::FAST),
            in_stock: builder.add_bool_field(IN_STOCK, INDEXED | tantivy::schema::FAST),
        };
        (builder.build(), fields)
    }

    pub(crate) fn document(&self, doc: &ProductDocument) -> TantivyDocument {
        let mut out = TantivyDocument::default();
        out.add_text(self.key, doc.key());
        out.add_text(self.tenant, doc.tenant.to_string());
        out.add_text(self.product_id, doc.product_id.to_string());
        out.add_text(self.slug, &doc.slug);
        out.add_text(self.title, &doc.title);
        out.add_text(self.title_plain, &doc.title);
        out.add_text(self.all_plain, &doc.title);
        out.add_text(self.description, &doc.description);
        out.add_text(self.all_plain, &doc.description);
        for tag in &doc.tags {
            out.add_text(self.tags, tag);
            out.add_text(self.all_plain, tag);
        }
        out.add_text(self.vendor_name, &doc.vendor_name);
        out.add_text(self.all_plain, &doc.vendor_name);
        out.add_text(self.vendor, doc.vendor_id.to_string());
        for category in &doc.category_ids {
            out.add_text(self.category, category.to_string());
        }
        for attribute in &doc.attributes {
            out.add_text(self.attribute_text, &attribute.value);
            out.add_text(self.all_plain, &attribute.value);
            out.add_text(
                self.attribute,
                attribute_pair(&attribute.code, &attribute.value),
            );
        }
        out.add_i64(self.price_min, doc.price_min);
        out.add_i64(self.price_max, doc.price_max);
        out.add_i64(self.created_at, doc.created_at.timestamp_micros());
        out.add_bool(self.in_stock, doc.in_stock);
        out
    }
}

/// The analyzers, registered on every opened index (tantivy does not persist them) and used
/// to analyze queries the same way.
#[derive(Clone)]
pub(crate) struct Analyzers {
    stemmed: TextAnalyzer,
    plain: TextAnalyzer,
}

impl Analyzers {
    pub(crate) fn new() -> Self {
        let stop_words = StopWordFilter::new(Language::English)
            .unwrap_or_else(|| StopWordFilter::remove(Vec::<String>::new()));
        let stemmed = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(stop_words)
            .filter(Stemmer::new(Language::English))
            .build();
        let plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        Self { stemmed, plain }
    }

    pub(crate) fn register(&self, index: &Index) {
        index.tokenizers().register(STEMMED, self.stemmed.clone());
        index.tokenizers().register(PLAIN, self.plain.clone());
    }

    /// The words of `text` as the plain fields index them, at most `max`.
    pub(crate) fn plain_words(&self, text: &str, max: usize) -> Vec<String> {
        let mut analyzer = self.plain.clone();
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while words.len() < max && stream.advance() {
            words.push(stream.token().text.clone());
        }
        words
    }

    /// The stemmed form of one plain word; `None` for a stop word.
    pub(crate) fn stem(&self, word: &str) -> Option<String> {
        let mut analyzer = self.stemmed.clone();
        let mut stream = analyzer.token_stream(word);
        if stream.advance() {
            Some(stream.token().text.clone())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_folded_and_lower_cased() {
        let analyzers = Analyzers::new();
        assert_eq!(
            analyzers.plain_words("Crème BRÛLÉE, for two!", 10),
            ["creme", "brulee", "for", "two"]
        );
        assert_eq!(analyzers.plain_words("a b c d", 2), ["a", "b"]);
        assert!(analyzers.plain_words(" ,. ", 10).is_empty());
    }

    #[test]
    fn stems_drop_stop_words() {
        let analyzers = Analyzers::new();
        assert_eq!(analyzers.stem("running").as_deref(), Some("run"));
        assert_eq!(analyzers.stem("teas").as_deref(), Some("tea"));
        assert_eq!(analyzers.stem("the"), None);
        assert_eq!(analyzers.stem("for"), None);
    }
}
