//! Names shown to people (the app, OS and device of a session) come from
//! request headers an attacker writes: they are cut down to characters that
//! mean nothing to HTML, a shell or a terminal before they are stored, and
//! again when read (rows stored before this rule).

/// `text` with only letters, digits, spaces and `. _ - / ( ) ; : , +`
/// kept (anything else dropped, runs of spaces made one); `None` when
/// nothing is left. `<script>alert(1)</script>` becomes
/// `scriptalert(1)/script`: inert wherever it is shown.
pub fn display_name(text: &str) -> Option<String> {
    let mut name = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric()
            || matches!(c, '.' | '_' | '-' | '/' | '(' | ')' | ';' | ':' | ',' | '+')
        {
            name.push(c);
        } else if c.is_whitespace() && !name.is_empty() && !name.ends_with(' ') {
            name.push(' ');
        }
    }
    let name = name.trim_end();
    (!name.is_empty()).then(|| name.to_owned())
}

/// [`display_name`] of an optional name.
pub(crate) fn clean(name: Option<String>) -> Option<String> {
    name.as_deref().and_then(display_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_dropped_names_stay_readable() {
        assert_eq!(
            display_name("<script>alert(1)</script>").as_deref(),
            Some("scriptalert(1)/script")
        );
        assert_eq!(
            display_name("Chrome\" onerror=\"x'`&<img src=x>").as_deref(),
            Some("Chrome onerrorximg srcx")
        );
        assert_eq!(
            display_name("  Mobile\tSafari \r\n 17.4 ").as_deref(),
            Some("Mobile Safari 17.4")
        );
        assert_eq!(
            display_name("SM-S918B (Build/UP1A; wv)").as_deref(),
            Some("SM-S918B (Build/UP1A; wv)")
        );
        assert_eq!(
            display_name("Ünïcödé Браузер 1.0_beta+2").as_deref(),
            Some("Ünïcödé Браузер 1.0_beta+2")
        );
        assert_eq!(display_name("<>\"'&\u{1b}[31m"), Some("31m".to_owned()));
        assert_eq!(display_name("<>\"'&"), None);
        assert_eq!(display_name(""), None);
    }
}
