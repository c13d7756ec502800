//! A framework-free description of the request a token was issued on.

use std::fmt;
use std::net::IpAddr;

/// What the registry and device recognition need to know of an HTTP
/// request: the peer address and the headers. Web frameworks build it
/// (jwt-actix from an `HttpRequest`); nothing here depends on one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    peer: Option<IpAddr>,
    /// Lower-case names, values as sent (non-UTF-8 bytes replaced).
    headers: Vec<(String, String)>,
}

impl RequestInfo {
    /// A request from `peer` with no headers.
    pub fn new(peer: Option<IpAddr>) -> Self {
        RequestInfo {
            peer,
            headers: Vec::new(),
        }
    }

    /// Adds a header; the name is matched without regard to case.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.push_header(name, value);
        self
    }

    /// Adds a header.
    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
    }

    /// The address of the peer that sent the request (a proxy's, behind one).
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(have, _)| have.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(have, _)| have.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// All headers, names in lower case.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// Header values may carry credentials (`Authorization`, `Cookie`): `Debug`
/// shows the peer and the header names only.
impl fmt::Debug for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("peer", &self.peer)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_without_case_and_debug_hides_values() {
        let info = RequestInfo::new(Some([10, 0, 0, 1].into()))
            .with_header("User-Agent", "curl/8")
            .with_header("X-Forwarded-For", "1.2.3.4")
            .with_header("x-forwarded-for", "5.6.7.8")
            .with_header("Authorization", "Bearer secret-token");
        assert_eq!(info.header("user-agent"), Some("curl/8"));
        assert_eq!(
            info.header_values("X-FORWARDED-FOR").collect::<Vec<_>>(),
            ["1.2.3.4", "5.6.7.8"]
        );
        let shown = format!("{info:?}");
        assert!(
            shown.contains("authorization") && !shown.contains("secret-token"),
            "{shown}"
        );
    }
}
