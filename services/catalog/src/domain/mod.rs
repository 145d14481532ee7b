//! The catalog's types and rules, free of HTTP and SQL: products and their lifecycle,
//! variants and prices, the category tree, typed attributes, and the vendors as catalog sees
//! them. Everything here is unit-tested without a database.

pub mod attribute;
pub mod category;
pub mod csv_file;
pub mod price;
pub mod product;
pub mod variant;
pub mod vendor;

pub use attribute::{Attribute, AttributeKind};
pub use category::{Category, CategoryTree};
pub use product::{Product, ProductAction, ProductStatus};
pub use variant::Variant;
pub use vendor::{VendorMirror, VendorStatus};

mercato_kernel::typed_id!(
    /// One image of a product.
    pub MediaId, "med"
);
mercato_kernel::typed_id!(
    /// One CSV import run.
    pub ImportId, "imp"
);

/// The current instant at the precision both backends store (PostgreSQL keeps microseconds).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

pub use mercato_kernel::text::check_line as check_name;

/// A longer text (a description): at most `max` characters; line breaks and tabs allowed.
pub fn check_text(text: &str, max: usize) -> Result<(), &'static str> {
    if text.chars().count() > max {
        return Err("too long");
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("has control characters");
    }
    Ok(())
}

/// A slug: 2-80 lowercase ASCII letters, digits and inner single hyphens.
pub fn check_slug(slug: &str) -> Result<(), &'static str> {
    let ok = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !(2..=80).contains(&slug.len())
        || !ok
        || slug.starts_with('-')
        || slug.ends_with('-')
        || slug.contains("--")
    {
        return Err("2-80 lowercase letters, digits or single inner hyphens");
    }
    Ok(())
}

/// A slug made from a title: lowercase ASCII letters and digits, other runs become `-`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.chars()
        .take(80)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_strict_and_come_from_titles() {
        assert_eq!(slugify("Zoë's  Green Tea, 100 g!"), "zo-s-green-tea-100-g");
        assert_eq!(slugify("---"), "");
        assert!(check_slug(&slugify("A B")).is_ok());
        for bad in ["", "a", "-ab", "ab-", "a--b", "Ab", "a b", "a_b", "ü-x"] {
            assert!(check_slug(bad).is_err(), "{bad:?}");
        }
        assert!(check_slug(&"a".repeat(80)).is_ok());
        assert!(check_slug(&"a".repeat(81)).is_err());
        assert_eq!(
            slugify(&"abc ".repeat(50)).len(),
            79,
            "cut at 80, no trailing hyphen"
        );
    }

    #[test]
    fn names_and_texts_refuse_control_characters() {
        assert!(check_name("  Tea  ", 10).is_ok());
        assert!(check_name("   ", 10).is_err());
        assert!(check_name("a\u{0007}b", 10).is_err());
        assert!(check_name(&"x".repeat(11), 10).is_err());
        assert!(check_text("line one\nline two\ttab", 100).is_ok());
        assert!(check_text("bell\u{0007}", 100).is_err());
    }
}
