//! Client hints (`Sec-CH-UA*`, `DPR`, `Device-Memory`, ...): kept, and
//! believed over the User-Agent when present.

use jwt_core::RequestInfo;

use super::user_agent::brand_of_model;
use super::{App, Category, Os, Recognized, cut, storable};
use crate::client_hints::{self, MAX_VALUE};

/// How many client hints are kept.
const MAX_HINTS: usize = 32;

/// The longest hint name kept.
const MAX_NAME: usize = 64;

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

pub(super) fn apply_client_hints(request: &RequestInfo, recognized: &mut Recognized) {
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
