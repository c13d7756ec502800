//! The User-Agent: woothee's reading, corrected where it is wrong or silent
//! (libraries, in-app browsers, tablets, crawlers, TVs).

use super::{App, Category, Os, Recognized, known};

/// The version after `token` (`"FBAV/"`), up to a separator.
fn version_after(user_agent: &str, token: &str) -> Option<String> {
    let start = user_agent.find(token)? + token.len();
    let version: String = user_agent[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    (!version.is_empty()).then_some(version)
}

/// Programs that name themselves first (`curl/8.5.0`); woothee knows a few
/// and gives their name as the version, or none at all.
const LIBRARIES: &[(&str, &str)] = &[
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("python-requests/", "python-requests"),
    ("python-httpx/", "python-httpx"),
    ("okhttp/", "okhttp"),
    ("PostmanRuntime/", "PostmanRuntime"),
    ("Go-http-client/", "Go-http-client"),
    ("axios/", "axios"),
    ("node-fetch/", "node-fetch"),
    ("Dart/", "Dart"),
    ("Java/", "Java"),
];

pub(super) fn from_user_agent(user_agent: &str) -> Recognized {
    let mut recognized = Recognized::default();
    if let Some((token, name)) = LIBRARIES
        .iter()
        .find(|(token, _)| user_agent.starts_with(token))
    {
        recognized.app = App {
            family: Some((*name).to_owned()),
            version: version_after(user_agent, token),
        };
        recognized.category = Category::Library;
        return recognized;
    }
    if let Some(parsed) = woothee::parser::Parser::new().parse(user_agent) {
        recognized.category = match parsed.category {
            "pc" => Category::Desktop,
            "smartphone" => Category::Smartphone,
            "mobilephone" => Category::MobilePhone,
            "appliance" => Category::Appliance,
            "crawler" => Category::Crawler,
            "misc" => Category::Library,
            _ => Category::Unknown,
        };
        recognized.app = match parsed.name {
            // woothee gives an HTTP library's name as its version.
            "HTTP Library" => App {
                family: known(parsed.version),
                version: None,
            },
            // Told apart below; "Version/4.0" is no version of anything.
            "Webview" => App::default(),
            name => App {
                family: known(name),
                version: known(parsed.version),
            },
        };
        recognized.os = os_of(parsed.os, &parsed.os_version);
    }
    app_fixes(user_agent, &mut recognized);
    os_fixes(user_agent, &mut recognized);
    device_of(user_agent, &mut recognized);
    recognized
}

/// Apps woothee does not know, or names differently from their makers,
/// found by their own token (first match wins).
const APPS: &[(&str, &str)] = &[
    // Meta's in-app browsers, which woothee calls a web view.
    ("FBAV/", "Facebook"),
    (" Instagram ", "Instagram"),
    // Samsung's and Amazon's names for their browsers.
    ("SamsungBrowser/", "Samsung Internet"),
    ("Silk/", "Silk"),
];

fn app_fixes(user_agent: &str, recognized: &mut Recognized) {
    if let Some((token, family)) = APPS.iter().find(|(token, _)| user_agent.contains(token)) {
        recognized.app = App {
            family: Some((*family).to_owned()),
            version: version_after(user_agent, token),
        };
    } else if user_agent.contains("FBAN/") {
        recognized.app = App {
            family: Some("Facebook".into()),
            version: None,
        };
    } else if user_agent.contains("; wv)") && user_agent.contains("Android") {
        // Google: the Android System WebView says "wv"; its Chrome/ version
        // is the WebView's.
        recognized.app = App {
            family: Some("Android WebView".into()),
            version: version_after(user_agent, "Chrome/"),
        };
    } else if recognized.category == Category::Crawler {
        // woothee drops crawlers' versions and lumps many together.
        if let Some((name, version)) =
            product_tokens(user_agent).find(|(name, _)| is_crawler_name(name))
        {
            recognized.app = App {
                family: Some(name.to_owned()),
                version: version.map(str::to_owned),
            };
        }
    }
    if recognized.app.family.is_none() {
        // A native app's own "MyApp/2.3.1 (iPhone; iOS 17.4)", "Dalvik/2.1.0".
        if let Some((name, version)) = product_tokens(user_agent)
            .next()
            .filter(|(name, _)| *name != "Mozilla")
        {
            recognized.app = App {
                family: Some(name.to_owned()),
                version: version.map(str::to_owned),
            };
        }
    }
}

/// The `Name/version` tokens of a User-Agent, in order.
fn product_tokens(user_agent: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    user_agent
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '(' | ')' | ',' | '[' | ']' | '+'))
        .filter_map(|token| {
            let (name, version) = token.split_once('/')?;
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            let version = version
                .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .next()
                .filter(|version| !version.is_empty() && version.len() <= 64);
            name_ok.then_some((name, version))
        })
}

fn is_crawler_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["bot", "crawler", "spider", "externalhit", "slurp"]
        .iter()
        .any(|word| name.contains(word))
}

fn os_fixes(user_agent: &str, recognized: &mut Recognized) {
    let os = &mut recognized.os;
    match os.family.as_deref() {
        // woothee reads "Mac OS X 10_15_7" but not Firefox's "Mac OS X 14.4".
        Some("macOS") if os.version.is_none() => {
            os.version = version_after(user_agent, "Mac OS X ").map(|v| v.replace('_', "."));
        }
        // A native app's "(iPhone; iOS 17.4; ...)".
        Some("iOS" | "iPadOS") if os.version.is_none() => {
            os.version = version_after(user_agent, "iOS ").map(|v| v.replace('_', "."));
        }
        _ => {}
    }
    if user_agent.contains("PlayStation") {
        recognized.category = Category::Appliance;
        recognized.os = Os {
            family: Some("PlayStation".into()),
            version: version_after(user_agent, "PlayStation 5/")
                .or_else(|| version_after(user_agent, "PlayStation 4/")),
            arch: None,
        };
        recognized.device.brand = Some("Sony".into());
    } else if user_agent.contains("Tizen") {
        // Samsung's TVs and watches; woothee takes them for Linux PCs.
        recognized.os = Os {
            family: Some("Tizen".into()),
            version: version_after(user_agent, "Tizen "),
            arch: None,
        };
        recognized.device.brand = Some("Samsung".into());
        if user_agent.contains("SMART-TV")
            || user_agent.contains("SmartTV")
            || user_agent.contains(" TV ")
        {
            recognized.category = Category::Appliance;
        }
    }
}

/// woothee's OS names in Apple's and Microsoft's words.
fn os_of(name: &str, version: &str) -> Os {
    let version = known(version);
    let (family, version, arch) = match name {
        "iPhone" | "iPod" => ("iOS".to_owned(), version, None),
        "iPad" => ("iPadOS".to_owned(), version, None),
        "Mac OSX" => ("macOS".to_owned(), version, None),
        // "x86_64 14541.0.0"
        "ChromeOS" => {
            let (arch, version) = match version.as_deref().and_then(|v| v.split_once(' ')) {
                Some((arch, version)) => (Some(arch.to_owned()), Some(version.to_owned())),
                None => (None, version),
            };
            ("ChromeOS".to_owned(), version, arch)
        }
        "Windows Phone OS" => ("Windows Phone".to_owned(), version, None),
        windows if windows.starts_with("Windows ") && windows != "Windows UNKNOWN Ver" => (
            "Windows".to_owned(),
            Some(windows["Windows ".len()..].to_owned()),
            None,
        ),
        "Windows UNKNOWN Ver" => ("Windows".to_owned(), None, None),
        other => match known(other) {
            Some(other) => (other, version, None),
            None => return Os::default(),
        },
    };
    Os {
        family: Some(family),
        version,
        arch,
    }
}

/// Brand and model from what the User-Agent says; tablets told apart.
fn device_of(user_agent: &str, recognized: &mut Recognized) {
    let os = recognized.os.family.as_deref();
    let apple = |model: &str| (Some("Apple".to_owned()), Some(model.to_owned()));
    let (brand, model) = match os {
        Some("iOS") if user_agent.contains("iPod") => apple("iPod"),
        Some("iOS") => apple("iPhone"),
        Some("iPadOS") => {
            recognized.category = Category::Tablet;
            apple("iPad")
        }
        Some("macOS") => apple("Mac"),
        Some("Android") => {
            // Android tablets' browsers leave "Mobile" out (Google's
            // guidance); apps' own User-Agents never said it.
            if recognized.category == Category::Smartphone
                && user_agent.starts_with("Mozilla/")
                && !user_agent.contains("Mobile")
            {
                recognized.category = Category::Tablet;
            }
            let model = android_model(user_agent);
            (
                model.as_deref().and_then(brand_of_model).map(str::to_owned),
                model,
            )
        }
        _ => (recognized.device.brand.take(), None),
    };
    recognized.device.brand = brand;
    recognized.device.model = model;
}

/// "Android 14; Pixel 8)" or "Android 13; SM-A536B Build/TP1A...; wv)". The
/// reduced User-Agent of recent Chrome says "K": no model.
fn android_model(user_agent: &str) -> Option<String> {
    let start = user_agent.find("Android ")?;
    let rest = &user_agent[start..];
    let rest = &rest[rest.find(';')? + 1..];
    let end = rest.find([';', ')']).unwrap_or(rest.len());
    let model = rest[..end]
        .split(" Build/")
        .next()
        .unwrap_or_default()
        .trim();
    (!model.is_empty() && model != "K" && model != "Mobile" && model.len() <= 64)
        .then(|| model.to_owned())
}

pub(super) fn brand_of_model(model: &str) -> Option<&'static str> {
    if model.starts_with("SM-") || model.starts_with("GT-") {
        Some("Samsung")
    } else if model.starts_with("Pixel") {
        Some("Google")
    } else if model.starts_with("Lumia") {
        Some("Microsoft")
    } else {
        None
    }
}
