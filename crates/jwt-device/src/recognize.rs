//! What app, OS and device a request comes from: the User-Agent through
//! woothee, corrected where it is wrong or silent, then client hints, which
//! win when present.

use std::collections::BTreeMap;
use std::fmt;

use jwt_core::RequestInfo;
use serde::Serialize;

use crate::names::clean;

mod hints;
mod user_agent;

use hints::apply_client_hints;
use user_agent::from_user_agent;

/// The longest User-Agent kept (and parsed), in bytes.
pub const MAX_USER_AGENT: usize = 1024;

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

pub(super) fn known(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value != "UNKNOWN").then(|| value.to_owned())
}
