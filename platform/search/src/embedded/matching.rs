//! Turning a [`SearchQuery`] into a tantivy query: the tenant term and the filters as
//! zero-score required clauses, and the words as scored clauses.

use super::schema::{Analyzers, Fields};
use crate::document::attribute_pair;
use crate::query::{Filters, MAX_TERMS};
use mercato_tenant_context::TenantId;
use std::ops::Bound;
use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

/// Boosts of an exact (stemmed) match per field.
const TITLE: f32 = 4.0;
const TAGS: f32 = 2.5;
const VENDOR_NAME: f32 = 2.0;
const ATTRIBUTES: f32 = 2.0;
const DESCRIPTION: f32 = 1.0;
/// Scores of a typo or prefix match (constant, below a typical exact title match).
const FUZZY_TITLE: f32 = 1.0;
const FUZZY_ANYWHERE: f32 = 0.5;

/// Whether every word has to match, or all but one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    AllWords,
    AllButOne,
}

/// One query word: as written (folded) and stemmed (`None` for a stop word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    plain: String,
    stem: Option<String>,
    /// The last word of text still being typed: also matches as a prefix.
    prefix: bool,
}

/// The words of a query, stop words dropped unless the text has nothing else.
pub(crate) fn words(analyzers: &Analyzers, text: Option<&str>) -> Vec<Word> {
    let Some(text) = text else {
        return Vec::new();
    };
    let open_ended = text.ends_with(char::is_alphanumeric);
    let plain = analyzers.plain_words(text, MAX_TERMS);
    let last = plain.len().saturating_sub(1);
    let all: Vec<Word> = plain
        .into_iter()
        .enumerate()
        .map(|(i, plain)| Word {
            stem: analyzers.stem(&plain),
            prefix: open_ended && i == last,
            plain,
        })
        .collect();
    if all.iter().all(|word| word.stem.is_none()) {
        return all;
    }
    all.into_iter().filter(|word| word.stem.is_some()).collect()
}

/// Typos allowed in a word of `chars` characters.
pub(crate) fn typo_distance(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// A clause that filters without scoring.
fn filter(query: impl Query) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(Box::new(query), 0.0))
}

fn boosted(query: impl Query, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), boost))
}

pub(crate) fn tenant_term(fields: &Fields, tenant: TenantId) -> Term {
    Term::from_field_text(fields.tenant, &tenant.to_string())
}

/// The tenant clause every query starts with.
pub(crate) fn tenant_clause(fields: &Fields, tenant: TenantId) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        filter(TermQuery::new(
            tenant_term(fields, tenant),
            IndexRecordOption::Basic,
        )),
    )
}

fn any_of(field: Field, values: impl IntoIterator<Item = String>) -> Box<dyn Query> {
    filter(TermSetQuery::new(
        values
            .into_iter()
            .map(|value| Term::from_field_text(field, &value)),
    ))
}

/// The tenant and filter clauses, all required and unscored.
pub(crate) fn filter_clauses(
    fields: &Fields,
    tenant: TenantId,
    filters: &Filters,
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = vec![tenant_clause(fields, tenant)];
    if !filters.categories.is_empty() {
        clauses.push((
            Occur::Must,
            any_of(
                fields.category,
                filters.categories.iter().map(ToString::to_string),
            ),
        ));
    }
    if !filters.vendors.is_empty() {
        clauses.push((
            Occur::Must,
            any_of(
                fields.vendor,
                filters.vendors.iter().map(ToString::to_string),
            ),
        ));
    }
    for (code, values) in &filters.attributes {
        clauses.push((
            Occur::Must,
            any_of(
                fields.attribute,
                values.iter().map(|value| attribute_pair(code, value)),
            ),
        ));
    }
    if let Some(price) = filters.price {
        // Overlap of [price_min, price_max] with [min, max].
        if let Some(max) = price.max {
            clauses.push((
                Occur::Must,
                filter(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Included(Term::from_field_i64(fields.price_min, max)),
                )),
            ));
        }
        if let Some(min) = price.min {
            clauses.push((
                Occur::Must,
                filter(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(fields.price_max, min)),
                    Bound::Unbounded,
                )),
            ));
        }
    }
    if let Some(in_stock) = filters.in_stock {
        clauses.push((
            Occur::Must,
            filter(TermQuery::new(
                Term::from_field_bool(fields.in_stock, in_stock),
                IndexRecordOption::Basic,
            )),
        ));
    }
    clauses
}

/// What one word matches: exact stems in each text field (BM25, boosted by field), the word
/// within its typo distance in the plain fields, and, while typed, as a prefix there.
fn word_query(fields: &Fields, word: &Word) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match &word.stem {
        Some(stem) => {
            for (field, boost) in [
                (fields.title, TITLE),
                (fields.tags, TAGS),
                (fields.vendor_name, VENDOR_NAME),
                (fields.attribute_text, ATTRIBUTES),
                (fields.description, DESCRIPTION),
            ] {
                let term = Term::from_field_text(field, stem);
                should.push((
                    Occur::Should,
                    boosted(TermQuery::new(term, IndexRecordOption::WithFreqs), boost),
                ));
            }
        }
        None => {
            let term = Term::from_field_text(fields.all_plain, &word.plain);
            should.push((
                Occur::Should,
                boosted(
                    TermQuery::new(term, IndexRecordOption::Basic),
                    FUZZY_ANYWHERE,
                ),
            ));
        }
    }
    let distance = typo_distance(word.plain.chars().count());
    if distance > 0 {
        for (field, boost) in [
            (fields.title_plain, FUZZY_TITLE),
            (fields.all_plain, FUZZY_ANYWHERE),
        ] {
            let term = Term::from_field_text(field, &word.plain);
            should.push((
                Occur::Should,
                boosted(FuzzyTermQuery::new(term, distance, true), boost),
            ));
        }
    }
    if word.prefix && word.plain.chars().count() >= 2 {
        for (field, boost) in [
            (fields.title_plain, FUZZY_TITLE),
            (fields.all_plain, FUZZY_ANYWHERE),
        ] {
            let term = Term::from_field_text(field, &word.plain);
            should.push((
                Occur::Should,
                boosted(FuzzyTermQuery::new_prefix(term, 0, true), boost),
            ));
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// The whole search query: tenant and filters required, then the words.
pub(crate) fn search_query(
    fields: &Fields,
    tenant: TenantId,
    filters: &Filters,
    words: &[Word],
    strictness: Strictness,
) -> Box<dyn Query> {
    let mut clauses = filter_clauses(fields, tenant, filters);
    match strictness {
        // Plain required clauses: tantivy intersects them, cheapest first.
        Strictness::AllWords => {
            clauses.extend(
                words
                    .iter()
                    .map(|word| (Occur::Must, word_query(fields, word))),
            );
        }
        Strictness::AllButOne if !words.is_empty() => {
            let word_clauses: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .map(|word| (Occur::Should, word_query(fields, word)))
                .collect();
            clauses.push((
                Occur::Must,
                Box::new(BooleanQuery::with_minimum_required_clauses(
                    word_clauses,
                    words.len().saturating_sub(1).max(1),
                )),
            ));
        }
        Strictness::AllButOne => {}
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Titles for autocomplete: earlier words whole (or within their typo distance), the last
/// as a prefix while it is being typed, all in the title.
pub(crate) fn suggest_query(
    fields: &Fields,
    tenant: TenantId,
    analyzers: &Analyzers,
    prefix: &str,
) -> Option<Box<dyn Query>> {
    let words = analyzers.plain_words(prefix, MAX_TERMS);
    let open_ended = prefix.ends_with(char::is_alphanumeric);
    let last = words.len().checked_sub(1)?;
    let mut clauses = vec![tenant_clause(fields, tenant)];
    for (i, word) in words.iter().enumerate() {
        let term = Term::from_field_text(fields.title_plain, word);
        let mut should: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Should,
            boosted(TermQuery::new(term.clone(), IndexRecordOption::Basic), 2.0),
        )];
        if i == last && open_ended {
            should.push((
                Occur::Should,
                Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
            ));
        } else {
            let distance = typo_distance(word.chars().count());
            if distance > 0 {
                should.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new(term, distance, true)),
                ));
            }
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_budget_grows_with_the_word() {
        assert_eq!(typo_distance(3), 0);
        assert_eq!(typo_distance(4), 1);
        assert_eq!(typo_distance(7), 1);
        assert_eq!(typo_distance(8), 2);
        assert_eq!(typo_distance(20), 2);
    }

    #[test]
    fn stop_words_are_dropped_unless_they_are_all_there_is() {
        let analyzers = Analyzers::new();
        let words_of = |text| {
            words(&analyzers, Some(text))
                .into_iter()
                .map(|w| (w.plain, w.stem, w.prefix))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words_of("Tea for Two"),
            [
                ("tea".into(), Some("tea".into()), false),
                ("two".into(), Some("two".into()), true),
            ]
        );
        assert_eq!(
            words_of("the "),
            [("the".into(), None, false)],
            "a query of stop words still means something"
        );
        assert_eq!(
            words_of("running shoes "),
            [
                ("running".into(), Some("run".into()), false),
                ("shoes".into(), Some("shoe".into()), false),
            ],
            "a trailing space ends the last word"
        );
        assert!(words(&analyzers, None).is_empty());
        assert_eq!(words(&analyzers, Some(&"tea ".repeat(30))).len(), MAX_TERMS);
    }
}
