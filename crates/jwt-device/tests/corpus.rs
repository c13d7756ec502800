//! Recognition of real User-Agent strings and client-hint sets. Expected
//! values are what each string says about itself (the vendors' documented
//! formats), not what a parser answered; where woothee alone answers
//! something else, the case records woothee's answer and our layer's fix.

use jwt_core::RequestInfo;
use jwt_device::{Category, MAX_USER_AGENT, Recognized, recognize};

/// One request and what it says.
struct Case {
    what: &'static str,
    user_agent: &'static str,
    hints: &'static [(&'static str, &'static str)],
    app: (Option<&'static str>, Option<&'static str>),
    os: (Option<&'static str>, Option<&'static str>),
    category: Category,
    /// woothee's own (name, version, os, os_version, category) where it is
    /// wrong or silent about this string.
    woothee_says: Option<[&'static str; 5]>,
}

const NONE: &[(&str, &str)] = &[];

use Category::*;

const CASES: &[Case] = &[
    Case {
        what: r#"Chrome 124 on Windows (frozen NT 10.0: Windows 10 or 11)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome 109 on Windows 8.1 (NT 6.3)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("109.0.0.0")),
        os: (Some("Windows"), Some("8.1")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on macOS (frozen 10_15_7)"#,
        user_agent: r#"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("macOS"), Some("10.15.7")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on Linux"#,
        user_agent: r#"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("Linux"), None),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on ChromeOS (arch then build in the UA)"#,
        user_agent: r#"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("ChromeOS"), Some("14541.0.0")),
        category: Desktop,
        woothee_says: Some(["Chrome", "124.0.0.0", "ChromeOS", "x86_64 14541.0.0", "pc"]),
    },
    Case {
        what: r#"Edge (Chromium, Edg/)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"#,
        hints: NONE,
        app: (Some("Edge"), Some("124.0.2478.51")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Edge Legacy (EdgeHTML, Edge/)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582"#,
        hints: NONE,
        app: (Some("Edge"), Some("18.19582")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Firefox on Windows"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"#,
        hints: NONE,
        app: (Some("Firefox"), Some("125.0")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Firefox on macOS (dotted version)"#,
        user_agent: r#"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"#,
        hints: NONE,
        app: (Some("Firefox"), Some("125.0")),
        os: (Some("macOS"), Some("14.4")),
        category: Desktop,
        woothee_says: Some(["Firefox", "125.0", "Mac OSX", "UNKNOWN", "pc"]),
    },
    Case {
        what: r#"Firefox on Ubuntu"#,
        user_agent: r#"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"#,
        hints: NONE,
        app: (Some("Firefox"), Some("125.0")),
        os: (Some("Linux"), None),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Safari on macOS"#,
        user_agent: r#"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"#,
        hints: NONE,
        app: (Some("Safari"), Some("17.4.1")),
        os: (Some("macOS"), Some("10.15.7")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Opera (OPR/)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0"#,
        hints: NONE,
        app: (Some("Opera"), Some("110.0.0.0")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Yandex Browser (YaBrowser/)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.4.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Yandex Browser"), Some("24.4.0.0")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Vivaldi (Vivaldi/)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7"#,
        hints: NONE,
        app: (Some("Vivaldi"), Some("6.7")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Internet Explorer 11 on Windows 7"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"#,
        hints: NONE,
        app: (Some("Internet Explorer"), Some("11.0")),
        os: (Some("Windows"), Some("7")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Safari on iPhone"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"#,
        hints: NONE,
        app: (Some("Safari"), Some("17.4.1")),
        os: (Some("iOS"), Some("17.4.1")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on iPhone (CriOS/)"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.6367.88")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Firefox on iPhone (FxiOS/)"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15"#,
        hints: NONE,
        app: (Some("Firefox"), Some("125.0")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Edge on iPhone (EdgiOS/)"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.0.2478.50 Mobile/15E148 Safari/605.1.15"#,
        hints: NONE,
        app: (Some("Edge"), Some("124.0.2478.50")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Safari on iPad"#,
        user_agent: r#"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"#,
        hints: NONE,
        app: (Some("Safari"), Some("17.4")),
        os: (Some("iPadOS"), Some("17.4")),
        category: Tablet,
        woothee_says: Some(["Safari", "17.4", "iPad", "17.4", "smartphone"]),
    },
    Case {
        what: r#"Chrome on iPad"#,
        user_agent: r#"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.6367.88")),
        os: (Some("iPadOS"), Some("17.4")),
        category: Tablet,
        woothee_says: Some(["Chrome", "124.0.6367.88", "iPad", "17.4", "smartphone"]),
    },
    Case {
        what: r#"Chrome on Android, reduced UA (model K)"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("Android"), Some("10")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on a Pixel 8"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.6367.82")),
        os: (Some("Android"), Some("14")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Samsung Internet"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"#,
        hints: NONE,
        app: (Some("Samsung Internet"), Some("24.0")),
        os: (Some("Android"), Some("14")),
        category: Smartphone,
        woothee_says: Some(["SamsungBrowser", "24.0", "Android", "14", "smartphone"]),
    },
    Case {
        what: r#"Edge on Android (EdgA/)"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36 EdgA/124.0.2478.50"#,
        hints: NONE,
        app: (Some("Edge"), Some("124.0.2478.50")),
        os: (Some("Android"), Some("14")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Firefox on Android"#,
        user_agent: r#"Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"#,
        hints: NONE,
        app: (Some("Firefox"), Some("125.0")),
        os: (Some("Android"), Some("14")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on a Galaxy Tab (no Mobile token)"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: NONE,
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("Android"), Some("12")),
        category: Tablet,
        woothee_says: Some(["Chrome", "124.0.0.0", "Android", "12", "smartphone"]),
    },
    Case {
        what: r#"Silk on a Fire tablet"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.3.1 like Chrome/124.0.6367.179 Safari/537.36"#,
        hints: NONE,
        app: (Some("Silk"), Some("124.3.1")),
        os: (Some("Android"), Some("9")),
        category: Tablet,
        woothee_says: Some(["Chrome", "124.0.6367.179", "Android", "9", "smartphone"]),
    },
    Case {
        what: r#"Android System WebView (wv)"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36"#,
        hints: NONE,
        app: (Some("Android WebView"), Some("119.0.6045.163")),
        os: (Some("Android"), Some("13")),
        category: Smartphone,
        woothee_says: Some(["Webview", "4.0", "Android", "13", "smartphone"]),
    },
    Case {
        what: r#"Edge on Windows 10 Mobile (says Android for compatibility)"#,
        user_agent: r#"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063"#,
        hints: NONE,
        app: (Some("Edge"), Some("15.15063")),
        os: (Some("Windows Phone"), Some("10.0")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Facebook in-app browser on iPhone"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.37.107;FBBV/586406186]"#,
        hints: NONE,
        app: (Some("Facebook"), Some("460.0.0.37.107")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: Some(["Webview", "UNKNOWN", "iPhone", "17.4", "smartphone"]),
    },
    Case {
        what: r#"Facebook in-app browser on Android"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/447.0.0.37.106;]"#,
        hints: NONE,
        app: (Some("Facebook"), Some("447.0.0.37.106")),
        os: (Some("Android"), Some("13")),
        category: Smartphone,
        woothee_says: Some(["Webview", "4.0", "Android", "13", "smartphone"]),
    },
    Case {
        what: r#"Instagram in-app browser on iPhone"#,
        user_agent: r#"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 326.0.3.28.92 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 591162837)"#,
        hints: NONE,
        app: (Some("Instagram"), Some("326.0.3.28.92")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: Some(["Webview", "UNKNOWN", "iPhone", "17.4", "smartphone"]),
    },
    Case {
        what: r#"Instagram in-app browser on Android"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/123.0.6312.118 Mobile Safari/537.36 Instagram 327.0.0.36.92 Android (33/13; 450dpi; 1080x2177; samsung; SM-A536B; a53x; s5e8825; en_US; 581244916)"#,
        hints: NONE,
        app: (Some("Instagram"), Some("327.0.0.36.92")),
        os: (Some("Android"), Some("13")),
        category: Smartphone,
        woothee_says: Some(["Webview", "4.0", "Android", "13", "smartphone"]),
    },
    Case {
        what: r#"a native iOS app's own User-Agent"#,
        user_agent: r#"MyApp/2.3.1 (iPhone; iOS 17.4; Scale/3.00)"#,
        hints: NONE,
        app: (Some("MyApp"), Some("2.3.1")),
        os: (Some("iOS"), Some("17.4")),
        category: Smartphone,
        woothee_says: Some(["UNKNOWN", "UNKNOWN", "iPhone", "UNKNOWN", "smartphone"]),
    },
    Case {
        what: r#"a native Android app on the platform's HTTP stack (Dalvik)"#,
        user_agent: r#"Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B Build/TP1A.220624.014)"#,
        hints: NONE,
        app: (Some("Dalvik"), Some("2.1.0")),
        os: (Some("Android"), Some("13")),
        category: Smartphone,
        woothee_says: Some(["UNKNOWN", "UNKNOWN", "Android", "13", "smartphone"]),
    },
    Case {
        what: r#"PlayStation 5 browser"#,
        user_agent: r#"Mozilla/5.0 (PlayStation; PlayStation 5/8.20) AppleWebKit/605.1.15 (KHTML, like Gecko)"#,
        hints: NONE,
        app: (None, None),
        os: (Some("PlayStation"), Some("8.20")),
        category: Appliance,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"Samsung smart TV (Tizen)"#,
        user_agent: r#"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"#,
        hints: NONE,
        app: (Some("Samsung Internet"), Some("4.0")),
        os: (Some("Tizen"), Some("6.0")),
        category: Appliance,
        woothee_says: Some(["SamsungBrowser", "4.0", "Linux", "UNKNOWN", "pc"]),
    },
    Case {
        what: r#"Googlebot"#,
        user_agent: r#"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"#,
        hints: NONE,
        app: (Some("Googlebot"), Some("2.1")),
        os: (None, None),
        category: Crawler,
        woothee_says: Some(["Googlebot", "UNKNOWN", "UNKNOWN", "UNKNOWN", "crawler"]),
    },
    Case {
        what: r#"Googlebot smartphone"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"#,
        hints: NONE,
        app: (Some("Googlebot"), Some("2.1")),
        os: (None, None),
        category: Crawler,
        woothee_says: Some(["Googlebot", "UNKNOWN", "UNKNOWN", "UNKNOWN", "crawler"]),
    },
    Case {
        what: r#"Bingbot"#,
        user_agent: r#"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"#,
        hints: NONE,
        app: (Some("bingbot"), Some("2.0")),
        os: (None, None),
        category: Crawler,
        woothee_says: Some(["bingbot", "UNKNOWN", "UNKNOWN", "UNKNOWN", "crawler"]),
    },
    Case {
        what: r#"YandexBot"#,
        user_agent: r#"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"#,
        hints: NONE,
        app: (Some("YandexBot"), Some("3.0")),
        os: (None, None),
        category: Crawler,
        woothee_says: Some(["misc crawler", "UNKNOWN", "UNKNOWN", "UNKNOWN", "crawler"]),
    },
    Case {
        what: r#"Facebook's link preview fetcher"#,
        user_agent: r#"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"#,
        hints: NONE,
        app: (Some("facebookexternalhit"), Some("1.1")),
        os: (None, None),
        category: Crawler,
        woothee_says: Some(["facebook", "UNKNOWN", "UNKNOWN", "UNKNOWN", "crawler"]),
    },
    Case {
        what: r#"curl"#,
        user_agent: r#"curl/8.5.0"#,
        hints: NONE,
        app: (Some("curl"), Some("8.5.0")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["HTTP Library", "curl", "UNKNOWN", "UNKNOWN", "misc"]),
    },
    Case {
        what: r#"Wget"#,
        user_agent: r#"Wget/1.21.4"#,
        hints: NONE,
        app: (Some("Wget"), Some("1.21.4")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["HTTP Library", "wget", "UNKNOWN", "UNKNOWN", "misc"]),
    },
    Case {
        what: r#"python-requests"#,
        user_agent: r#"python-requests/2.31.0"#,
        hints: NONE,
        app: (Some("python-requests"), Some("2.31.0")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"OkHttp"#,
        user_agent: r#"okhttp/4.12.0"#,
        hints: NONE,
        app: (Some("okhttp"), Some("4.12.0")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"Postman"#,
        user_agent: r#"PostmanRuntime/7.37.3"#,
        hints: NONE,
        app: (Some("PostmanRuntime"), Some("7.37.3")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"Go net/http"#,
        user_agent: r#"Go-http-client/2.0"#,
        hints: NONE,
        app: (Some("Go-http-client"), Some("2.0")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"Dart / Flutter http"#,
        user_agent: r#"Dart/3.3 (dart:io)"#,
        hints: NONE,
        app: (Some("Dart"), Some("3.3")),
        os: (None, None),
        category: Library,
        woothee_says: Some(["", "", "", "", ""]),
    },
    Case {
        what: r#"no User-Agent at all"#,
        user_agent: r#""#,
        hints: NONE,
        app: (None, None),
        os: (None, None),
        category: Unknown,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on Windows 11: hints name the platform version (13+ is 11)"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#,
            ),
            (
                r#"Sec-CH-UA-Full-Version-List"#,
                r#""Chromium";v="124.0.6367.91", "Google Chrome";v="124.0.6367.91", "Not-A.Brand";v="99.0.0.0""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""Windows""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""15.0.0""#),
            (r#"Sec-CH-UA-Mobile"#, r#"?0"#),
        ],
        app: (Some("Chrome"), Some("124.0.6367.91")),
        os: (Some("Windows"), Some("11")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on Windows 10: platform version 10.0.0"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#""Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""Windows""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""10.0.0""#),
        ],
        app: (Some("Chrome"), Some("124")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Edge by its brand list"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"#,
        hints: &[
            (
                r#"Sec-CH-UA-Full-Version-List"#,
                r#""Microsoft Edge";v="124.0.2478.51", "Not-A.Brand";v="99.0.0.0", "Chromium";v="124.0.6367.91""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""Windows""#),
        ],
        app: (Some("Edge"), Some("124.0.2478.51")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Brave: only its hints tell it from Chrome"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[(
            r#"Sec-CH-UA"#,
            r#""Chromium";v="124", "Brave";v="124", "Not-A.Brand";v="99""#,
        )],
        app: (Some("Brave"), Some("124")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Chromium: no real brand but Chromium, old-style GREASE"#,
        user_agent: r#"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#"" Not A;Brand";v="99", "Chromium";v="124""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""Linux""#),
        ],
        app: (Some("Chromium"), Some("124")),
        os: (Some("Linux"), None),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"macOS version from hints (the UA is frozen at 10_15_7)"#,
        user_agent: r#"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#""Google Chrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""macOS""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""14.4.1""#),
            (r#"Sec-CH-UA-Arch"#, r#""arm""#),
        ],
        app: (Some("Chrome"), Some("124")),
        os: (Some("macOS"), Some("14.4.1")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"Android model and version from hints (the UA says Android 10; K)"#,
        user_agent: r#"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#""Google Chrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99""#,
            ),
            (r#"Sec-CH-UA-Mobile"#, r#"?1"#),
            (r#"Sec-CH-UA-Platform"#, r#""Android""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""14.0.0""#),
            (r#"Sec-CH-UA-Model"#, r#""Pixel 8""#),
        ],
        app: (Some("Chrome"), Some("124")),
        os: (Some("Android"), Some("14.0.0")),
        category: Smartphone,
        woothee_says: None,
    },
    Case {
        what: r#"Chrome on ChromeOS by hints"#,
        user_agent: r#"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (
                r#"Sec-CH-UA"#,
                r#""Google Chrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99""#,
            ),
            (r#"Sec-CH-UA-Platform"#, r#""Chrome OS""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""15786.48.0""#),
        ],
        app: (Some("Chrome"), Some("124")),
        os: (Some("ChromeOS"), Some("15786.48.0")),
        category: Desktop,
        woothee_says: None,
    },
    Case {
        what: r#"broken hints fall back to the User-Agent"#,
        user_agent: r#"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"#,
        hints: &[
            (r#"Sec-CH-UA"#, r#""Google Chrome;v=124"#),
            (r#"Sec-CH-UA-Platform"#, r#""""#),
            (r#"Sec-CH-UA-Platform-Version"#, r#""x.y""#),
        ],
        app: (Some("Chrome"), Some("124.0.0.0")),
        os: (Some("Windows"), Some("10")),
        category: Desktop,
        woothee_says: None,
    },
];

fn request(case: &Case) -> RequestInfo {
    let mut request =
        RequestInfo::new(Some([203, 0, 113, 7].into())).with_header("User-Agent", case.user_agent);
    for (name, value) in case.hints {
        request.push_header(name, *value);
    }
    request
}

/// woothee's own answer: (name, version, os, os_version, category); all
/// empty when it recognises nothing.
fn woothee(user_agent: &str) -> [String; 5] {
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(p) => [p.name, p.version, p.os, &p.os_version, p.category].map(str::to_owned),
        None => Default::default(),
    }
}

fn known(value: &str) -> Option<&str> {
    (!value.is_empty() && value != "UNKNOWN").then_some(value)
}

fn summary(seen: &Recognized) -> String {
    format!("{:?} {:?} {:?}", seen.app, seen.os, seen.category)
}

#[test]
fn the_corpus_is_recognised_as_each_string_says() {
    assert!(CASES.len() >= 40, "the corpus holds {} cases", CASES.len());
    let mut failures = Vec::new();
    for case in CASES {
        let seen = recognize(&request(case));
        let got = (
            (seen.app.family.as_deref(), seen.app.version.as_deref()),
            (seen.os.family.as_deref(), seen.os.version.as_deref()),
            seen.category,
        );
        if got != (case.app, case.os, case.category) {
            failures.push(format!(
                "{}\n    expected {:?} {:?} {:?}\n    got      {}",
                case.what,
                case.app,
                case.os,
                case.category,
                summary(&seen)
            ));
        }
        assert!(seen.user_agent.len() <= MAX_USER_AGENT);
        assert_eq!(
            seen.device.family.as_deref(),
            seen.category.name(),
            "{}: the device family is the category",
            case.what
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Where woothee alone is wrong or silent the case records its answer; the
/// test keeps that record honest (it must differ from the truth), and
/// checks woothee agrees with the truth everywhere else.
#[test]
fn woothee_alone_is_wrong_exactly_where_the_corpus_says() {
    let mut fixed = 0;
    for case in CASES.iter().filter(|case| case.hints.is_empty()) {
        let raw = woothee(case.user_agent);
        let category = match raw[4].as_str() {
            "pc" => Desktop,
            "smartphone" => Smartphone,
            "mobilephone" => MobilePhone,
            "appliance" => Appliance,
            "crawler" => Crawler,
            "misc" => Library,
            _ => Unknown,
        };
        let agrees = (known(&raw[0]), known(&raw[1])) == case.app && category == case.category;
        match case.woothee_says {
            Some(recorded) => {
                assert_eq!(
                    raw,
                    recorded.map(str::to_owned),
                    "{}: woothee's recorded answer",
                    case.what
                );
                let os_version_missing = case.os.1.is_some() && known(&raw[3]).is_none();
                let os_wrong =
                    os_version_missing || case.os.0 == Some("Tizen") || raw[3].contains(' ');
                assert!(
                    !agrees || os_wrong,
                    "{}: woothee is recorded as wrong but agrees",
                    case.what
                );
                fixed += 1;
            }
            None => assert!(
                agrees,
                "{}: woothee says {raw:?}; record it if it is wrong",
                case.what
            ),
        }
    }
    assert!(fixed >= 20, "cases where our layer fixes woothee: {fixed}");
}

#[test]
fn device_details_come_from_the_hints() {
    let request = RequestInfo::new(None)
        .with_header("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36")
        .with_header("Sec-CH-UA-Model", r#""SM-S918B""#)
        .with_header("Sec-CH-UA-Bitness", r#""64""#)
        .with_header("Sec-CH-UA-Arch", r#""arm""#)
        .with_header("Sec-CH-UA-ID", r#""device-42""#)
        .with_header("Sec-CH-UA-Form-Factors", r#""Mobile""#)
        .with_header("Device-Memory", "8")
        .with_header("DPR", "2.625")
        .with_header("Viewport-Width", "412")
        .with_header("ECT", "4g")
        .with_header("Authorization", "Bearer secret");
    let seen = recognize(&request);
    assert_eq!(
        seen.device.brand.as_deref(),
        Some("Samsung"),
        "brand told by the model hint"
    );
    assert_eq!(seen.device.model.as_deref(), Some("SM-S918B"));
    assert_eq!(seen.device.bitness.as_deref(), Some("64"));
    assert_eq!(seen.os.arch.as_deref(), Some("arm"));
    assert_eq!(
        seen.device.memory,
        Some(8.0),
        "Device-Memory is kept (the Django package drops it)"
    );
    assert_eq!(seen.device.dpr, Some(2.625));
    assert_eq!(seen.device.viewport_width, Some(412));
    assert_eq!(seen.outer_id.as_deref(), Some("device-42"));
    assert_eq!(
        seen.client_hints
            .get("sec-ch-ua-form-factors")
            .map(String::as_str),
        Some(r#""Mobile""#),
        "other Sec-CH-UA-* kept"
    );
    assert_eq!(
        seen.client_hints.get("ect").map(String::as_str),
        Some("4g"),
        "network hints kept"
    );
    assert!(
        !seen.client_hints.contains_key("authorization"),
        "only hints are kept"
    );
    let width = recognize(&RequestInfo::new(None).with_header("Width", "1280"));
    assert_eq!(
        width.device.viewport_width,
        Some(1280),
        "Width stands in for Viewport-Width"
    );
}

#[test]
fn bad_and_huge_input_never_panics_and_keeps_nothing_wrong() {
    // 10 KB of deterministic garbage: every byte value's character, control
    // characters, multi-byte characters, quotes and separators.
    let mut state = 0x2545_f491_u32;
    let garbage: String = (0..10_240)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from_u32(state % 0x3000).unwrap_or('\u{fffd}')
        })
        .collect();
    assert!(garbage.len() >= 10_240);
    let mut request = RequestInfo::new(None).with_header("User-Agent", garbage.clone());
    for name in [
        "Sec-CH-UA",
        "Sec-CH-UA-Full-Version-List",
        "Sec-CH-UA-Platform",
        "Sec-CH-UA-Platform-Version",
        "Sec-CH-UA-Model",
        "DPR",
        "Device-Memory",
        "Viewport-Width",
    ] {
        request.push_header(name, garbage.clone());
    }
    for index in 0..100 {
        request.push_header(&format!("Sec-CH-UA-Made-Up-{index}"), "x".repeat(1000));
    }
    let seen = recognize(&request);
    assert!(
        seen.user_agent.len() <= MAX_USER_AGENT && seen.user_agent.len() > MAX_USER_AGENT - 4,
        "cut to 1 KiB on a character boundary"
    );
    assert!(garbage.starts_with(&seen.user_agent));
    assert!(
        seen.client_hints.len() <= 32,
        "{} hints kept",
        seen.client_hints.len()
    );
    assert!(seen.client_hints.values().all(|value| value.len() <= 256));
    assert_eq!(
        (
            seen.device.dpr,
            seen.device.memory,
            seen.device.viewport_width
        ),
        (None, None, None),
        "numbers that are not numbers stay empty"
    );

    for (name, value) in [
        ("DPR", "NaN"),
        ("DPR", "inf"),
        ("DPR", "-2"),
        ("DPR", "1e308"),
        ("Device-Memory", "-8"),
        ("Viewport-Width", "99999999999"),
    ] {
        let seen = recognize(&RequestInfo::new(None).with_header(name, value));
        assert_eq!(
            (
                seen.device.dpr,
                seen.device.memory,
                seen.device.viewport_width
            ),
            (None, None, None),
            "{name}: {value}"
        );
    }
    let nuls = recognize(
        &RequestInfo::new(None)
            .with_header("User-Agent", "\0".repeat(2000))
            .with_header("DPR", "\0".repeat(300))
            .with_header(&format!("Sec-CH-UA-{}", "x".repeat(100)), "1"),
    );
    assert!(
        nuls.user_agent.len() <= MAX_USER_AGENT,
        "NUL replaced before the cut: {}",
        nuls.user_agent.len()
    );
    assert!(!nuls.user_agent.contains('\0'));
    assert!(nuls.client_hints["dpr"].len() <= 256 && !nuls.client_hints["dpr"].contains('\0'));
    assert_eq!(
        nuls.client_hints.len(),
        1,
        "a 110-byte hint name is not kept"
    );
    let newer = recognize(
        &RequestInfo::new(None)
            .with_header("Sec-CH-DPR", "2")
            .with_header("Sec-CH-Viewport-Width", "800")
            .with_header("Sec-CH-Device-Memory", "4"),
    );
    assert_eq!(
        (
            newer.device.dpr,
            newer.device.viewport_width,
            newer.device.memory
        ),
        (Some(2.0), Some(800), Some(4.0)),
        "the Sec-CH- names"
    );
    for brands in [
        "",
        ",,,",
        r#"""#,
        r#";v="1""#,
        r#""\"#,
        r#""Not-A.Brand";v="99""#,
    ] {
        let seen = recognize(&RequestInfo::new(None).with_header("Sec-CH-UA", brands));
        assert_eq!(seen.app.family, None, "{brands:?}");
    }
}
