//! What app, OS and device a request comes from: the User-Agent through
//! woothee, corrected where it is wrong or silent, then client hints, which
//! win when present.

use std::collections::BTreeMap;
use std::fmt;

use jwt_core::RequestInfo;
use serde::Serialize;

use crate::client_hints::{self, MAX_VALUE};
use crate::names::clean;

/// The longest User-Agent kept (and parsed), in bytes.
pub const MAX_USER_AGENT: usize = 1024;

/// How many client hints are kept.
const MAX_HINTS: usize = 32;

/// The longest hint name kept.
const MAX_NAME: usize = 64;

/// The app (browser, in-app web view, HTTP library).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct App {
    /// `Chrome`, `Safari`, `Facebook`, `curl`, ...
    pub family: Option<String>,
    /// Its version, as the request gives it.
    pub version: Option<String>,
}

/// The operating system.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Os {
    /// `Windows`, `macOS`, `iOS`, `iPadOS`, `Android`, `Linux`, `ChromeOS`, ...
    pub family: Option<String>,
    /// `11`, `17.4.1`, `14`, ...
    pub version: Option<String>,
    /// `x86`, `arm`, `x86_64`.
    pub arch: Option<String>,
}

/// The device.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Device {
    /// The category's name: `Desktop`, `Smartphone`, `Tablet`, ... (set
    /// from `Recognized::category` once recognition is done).
    pub family: Option<String>,
    /// `Apple`, `Samsung`, `Google`, ...
    pub brand: Option<String>,
    /// `iPhone`, `Pixel 8`, `SM-S918B`, ...
    pub model: Option<String>,
    /// `64` (client hint).
    pub bitness: Option<String>,
    /// Approximate RAM in GiB (`Device-Memory`).
    pub memory: Option<f64>,
    /// Device pixel ratio (`DPR`).
    pub dpr: Option<f64>,
    /// CSS pixels (`Viewport-Width` / `Width`).
    pub viewport_width: Option<i32>,
}

/// The kind of device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Category {
    /// A desktop or laptop computer.
    Desktop,
    /// A smartphone.
    Smartphone,
    /// A tablet.
    Tablet,
    /// A feature phone.
    MobilePhone,
    /// A console, TV or other appliance.
    Appliance,
    /// A search engine or other bot.
    Crawler,
    /// A program: `curl`, an HTTP library.
    Library,
    /// Nothing recognisable.
    #[default]
    Unknown,
}

impl Category {
    /// The name stored as the device family.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Category::Desktop => "Desktop",
            Category::Smartphone => "Smartphone",
            Category::Tablet => "Tablet",
            Category::MobilePhone => "Mobile phone",
            Category::Appliance => "Appliance",
            Category::Crawler => "Crawler",
            Category::Library => "Library",
            Category::Unknown => return None,
        })
    }
}

/// Everything recognised of a request.
#[derive(Clone, Default, PartialEq, Serialize)]
pub struct Recognized {
    /// The app.
    pub app: App,
    /// The OS.
    pub os: Os,
    /// The device.
    pub device: Device,
    /// The kind of device.
    pub category: Category,
    /// The User-Agent, cut to [`MAX_USER_AGENT`] bytes.
    pub user_agent: String,
    /// Every client hint sent (`sec-ch-*`, `dpr`, `device-memory`,
    /// `viewport-width`, `width`, network hints), values cut to 256 bytes.
    pub client_hints: BTreeMap<String, String>,
    /// `Sec-CH-UA-ID`: what the device calls itself. Stored, never trusted
    /// as proof of identity.
    pub outer_id: Option<String>,
}

impl fmt::Debug for Recognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recognized")
            .field("app", &self.app)
            .field("os", &self.os)
            .field("device", &self.device)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

/// Recognises the app, OS and device of a request. Never fails: what cannot
/// be told stays `None`.
pub fn recognize(request: &RequestInfo) -> Recognized {
    let user_agent = cut(
        &storable(request.header("user-agent").unwrap_or_default()),
        MAX_USER_AGENT,
    );
    let mut recognized = from_user_agent(&user_agent);
    recognized.user_agent = user_agent;
    apply_client_hints(request, &mut recognized);
    recognized.device.family = recognized.category.name().map(str::to_owned);
    // Every name people are shown, cleaned before it is stored (and before
    // the digests that find shared rows are computed).
    let (app, os, device) = (
        &mut recognized.app,
        &mut recognized.os,
        &mut recognized.device,
    );
    for name in [
        &mut app.family,
        &mut app.version,
        &mut os.family,
        &mut os.version,
        &mut os.arch,
        &mut device.brand,
        &mut device.model,
        &mut device.bitness,
    ] {
        *name = clean(name.take());
    }
    recognized
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// `text` with NUL characters replaced (before any cut, so the limits
/// hold): PostgreSQL stores no NUL in text or JSON, and a header must never
/// make a login fail.
pub(crate) fn storable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        text.replace('\0', "\u{fffd}").into()
    } else {
        text.into()
    }
}

fn known(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value != "UNKNOWN").then(|| value.to_owned())
}

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

fn from_user_agent(user_agent: &str) -> Recognized {
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

fn brand_of_model(model: &str) -> Option<&'static str> {
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

/// Hints worth keeping besides `sec-ch-*`.
const OTHER_HINTS: &[&str] = &[
    "dpr",
    "device-memory",
    "viewport-width",
    "width",
    "ect",
    "rtt",
    "downlink",
    "save-data",
];

fn apply_client_hints(request: &RequestInfo, recognized: &mut Recognized) {
    for (name, value) in request.headers() {
        if (name.starts_with("sec-ch-") || OTHER_HINTS.contains(&name))
            && name.len() <= MAX_NAME
            && !name.contains('\0')
            && recognized.client_hints.len() < MAX_HINTS
            && !recognized.client_hints.contains_key(name)
        {
            recognized
                .client_hints
                .insert(name.to_owned(), cut(&storable(value), MAX_VALUE));
        }
    }
    if recognized.client_hints.is_empty() {
        return;
    }
    // Read while `recognized` is written; put back at the end.
    let hints = std::mem::take(&mut recognized.client_hints);
    let hint = |name: &str| hints.get(name).cloned();

    let brands = hint("sec-ch-ua-full-version-list")
        .or_else(|| hint("sec-ch-ua"))
        .map(|list| client_hints::brands(&list))
        .unwrap_or_default();
    if let Some(brand) = client_hints::main_brand(&brands) {
        recognized.app = App {
            family: Some(client_hints::brand_family(&brand.name).to_owned()),
            version: brand.version.clone(),
        };
    }
    if let Some(platform) = hint("sec-ch-ua-platform")
        .as_deref()
        .and_then(client_hints::unquote)
    {
        let family = match platform.as_str() {
            "Chrome OS" | "Chromium OS" => "ChromeOS".to_owned(),
            other => other.to_owned(),
        };
        if recognized.os.family.as_deref() != Some(family.as_str()) {
            recognized.os = Os {
                family: Some(family),
                ..Os::default()
            };
        }
    }
    if let Some(version) = hint("sec-ch-ua-platform-version")
        .as_deref()
        .and_then(client_hints::unquote)
    {
        let windows = recognized.os.family.as_deref() == Some("Windows");
        let major: Option<u32> = version
            .split('.')
            .next()
            .and_then(|major| major.parse().ok());
        recognized.os.version = match (windows, major) {
            // Microsoft: platform version 13 and up is Windows 11, 1 to 12
            // Windows 10; 0 is older (the User-Agent tells which).
            (true, Some(13..)) => Some("11".into()),
            (true, Some(1..=12)) => Some("10".into()),
            (true, _) => recognized.os.version.take(),
            (false, _) => Some(version),
        };
    }
    if let Some(arch) = hint("sec-ch-ua-arch")
        .as_deref()
        .and_then(client_hints::unquote)
    {
        recognized.os.arch = Some(arch);
    }
    let device = &mut recognized.device;
    if let Some(bitness) = hint("sec-ch-ua-bitness")
        .as_deref()
        .and_then(client_hints::unquote)
    {
        device.bitness = Some(bitness);
    }
    if let Some(model) = hint("sec-ch-ua-model")
        .as_deref()
        .and_then(client_hints::unquote)
    {
        device.brand = brand_of_model(&model)
            .map(str::to_owned)
            .or(device.brand.take());
        device.model = Some(model);
    }
    if hint("sec-ch-ua-mobile")
        .as_deref()
        .and_then(client_hints::boolean)
        == Some(true)
        && matches!(recognized.category, Category::Desktop | Category::Unknown)
    {
        recognized.category = Category::Smartphone;
    }
    // The newer names first (`Sec-CH-DPR`), then the first ones (`DPR`).
    let either = |name: &str| hint(&format!("sec-ch-{name}")).or_else(|| hint(name));
    device.dpr = either("dpr")
        .as_deref()
        .and_then(|v| client_hints::number(v, 16.0));
    device.memory = either("device-memory")
        .as_deref()
        .and_then(|v| client_hints::number(v, 1024.0));
    device.viewport_width = either("viewport-width")
        .or_else(|| either("width"))
        .as_deref()
        .and_then(|v| client_hints::number(v, 100_000.0))
        .map(|width| width.round() as i32);
    recognized.outer_id = hint("sec-ch-ua-id")
        .as_deref()
        .and_then(client_hints::unquote);
    recognized.client_hints = hints;
}
