//! Rules for text a person types.

/// A short text a person types (a name, a title, an address line): not empty once trimmed,
/// at most `max` characters, no control characters.
pub fn check_line(text: &str, max: usize) -> Result<(), &'static str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("must not be empty");
    }
    if trimmed.chars().count() > max || text.chars().any(char::is_control) {
        return Err("too long, or has control characters");
    }
    Ok(())
}
