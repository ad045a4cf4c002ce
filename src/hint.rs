//! How a hint joins an error message (**parent**): ". Hint: …" after the message, or nothing.

/// ". Hint: {hint}", or an empty string without one.
pub(crate) fn suffix(hint: Option<&'static str>) -> String {
    hint.map(|h| format!(". Hint: {h}")).unwrap_or_default()
}
