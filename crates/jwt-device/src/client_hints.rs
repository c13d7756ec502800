//! User-Agent client hints (`Sec-CH-UA*` and friends): what a browser says
//! about itself when asked, more precisely than its User-Agent string.

/// One brand of a `Sec-CH-UA` list: `"Google Chrome";v="124"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brand {
    /// The brand, quotes stripped.
    pub name: String,
    /// Its version (major in `Sec-CH-UA`, full in `-Full-Version-List`).
    pub version: Option<String>,
}

/// The longest value kept of any hint.
pub(crate) const MAX_VALUE: usize = 256;

/// How many brands of a list are looked at.
const MAX_BRANDS: usize = 16;

/// A structured-header string (`"Windows"`) or token, unquoted and
/// unescaped; `None` when empty.
pub(crate) fn unquote(value: &str) -> Option<String> {
    let value = value.trim();
    let inner = match value.strip_prefix('"') {
        Some(rest) if rest.ends_with('"') && !rest.is_empty() => &rest[..rest.len() - 1],
        // An unbalanced quote: not a value at all.
        Some(_) => return None,
        None if value.contains('"') => return None,
        None => value,
    };
    let mut out = String::with_capacity(inner.len().min(MAX_VALUE));
    let mut escaped = false;
    for c in inner.chars().take(MAX_VALUE) {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            // A quote inside a string must be escaped.
            (false, '"') => return None,
            _ => {
                escaped = false;
                out.push(c);
            }
        }
    }
    let out = out.trim().to_owned();
    (!out.is_empty()).then_some(out)
}

/// The brands of a `Sec-CH-UA` or `Sec-CH-UA-Full-Version-List` value, in
/// order. Malformed members are skipped.
pub fn brands(value: &str) -> Vec<Brand> {
    split_outside_quotes(value, ',')
        .into_iter()
        .take(MAX_BRANDS)
        .filter_map(|member| {
            let mut parts = split_outside_quotes(member, ';').into_iter();
            let name = unquote(parts.next()?)?;
            let version = parts
                .filter_map(|param| param.split_once('='))
                .find(|(key, _)| key.trim() == "v")
                .and_then(|(_, version)| unquote(version));
            Some(Brand { name, version })
        })
        .collect()
}

fn split_outside_quotes(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in value.char_indices() {
        match c {
            '\\' if quoted && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&value[start..index]);
                start = index + c.len_utf8();
            }
            _ => {}
        }
        escaped = false;
    }
    parts.push(&value[start..]);
    parts
}

/// Whether a brand is GREASE, the random fake brand browsers add so that
/// servers do not hard-code lists ("Not-A.Brand", "Not A(Brand", ...).
pub fn is_grease(name: &str) -> bool {
    let letters: String = name.chars().filter(char::is_ascii_alphabetic).collect();
    letters.eq_ignore_ascii_case("NotABrand") || (name.contains("Not") && name.contains("Brand"))
}

/// The brand a list stands for: GREASE skipped, a real brand preferred over
/// `Chromium` (which every Chromium-based browser lists too).
pub fn main_brand(brands: &[Brand]) -> Option<&Brand> {
    let real = || brands.iter().filter(|brand| !is_grease(&brand.name));
    real()
        .find(|brand| brand.name != "Chromium")
        .or_else(|| real().next())
}

/// The app family a brand names, in the same words the User-Agent parsing
/// uses (`"Google Chrome"` is `"Chrome"`).
pub fn brand_family(name: &str) -> &str {
    match name {
        "Google Chrome" => "Chrome",
        "Microsoft Edge" => "Edge",
        "Opera GX" | "Opera" => "Opera",
        "YaBrowser" | "Yandex" => "Yandex Browser",
        other => other,
    }
}

/// `?1` / `?0` (a structured-header boolean).
pub fn boolean(value: &str) -> Option<bool> {
    match value.trim() {
        "?1" => Some(true),
        "?0" => Some(false),
        _ => None,
    }
}

/// A positive number that fits a hint (`DPR: 2.625`).
pub fn number(value: &str, max: f64) -> Option<f64> {
    let number: f64 = value.trim().parse().ok()?;
    (number.is_finite() && number > 0.0 && number <= max).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_are_parsed_and_grease_skipped() {
        let list = brands(r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#);
        assert_eq!(list.len(), 3);
        assert_eq!(
            main_brand(&list).map(|b| b.name.as_str()),
            Some("Google Chrome")
        );
        let only_chromium = brands(r#""Not/A)Brand";v="8", "Chromium";v="126""#);
        assert_eq!(
            main_brand(&only_chromium).map(|b| b.name.as_str()),
            Some("Chromium")
        );
        let escaped = brands(r#""Not\"A\\Brand";v="99", "Microsoft Edge";v="124.0.2478.51""#);
        assert_eq!(
            main_brand(&escaped).and_then(|b| b.version.as_deref()),
            Some("124.0.2478.51")
        );
        for grease in [
            "Not-A.Brand",
            "Not A(Brand",
            "Not/A)Brand",
            ";Not A Brand",
            "Not)A;Brand",
        ] {
            assert!(is_grease(grease), "{grease}");
        }
    }

    #[test]
    fn garbage_gives_nothing_and_never_panics() {
        for value in [
            "",
            ",,,",
            "\"",
            "\";v=",
            ";;;;",
            "\u{0}\u{7f}",
            &"\"x\";v=\"1\",".repeat(2_000),
        ] {
            let list = brands(value);
            assert!(list.len() <= MAX_BRANDS);
        }
        assert_eq!(unquote("\"\""), None);
        assert_eq!(boolean("?2"), None);
        assert_eq!(number("NaN", 10.0), None);
        assert_eq!(number("-1", 10.0), None);
        assert_eq!(number("2.5", 10.0), Some(2.5));
    }
}
