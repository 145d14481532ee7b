//! Host names: a shop's custom domain is parsed once at the edge into a `Hostname`.

/// A lowercase DNS name with at least two labels, no port, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hostname(String);

impl Hostname {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let host = input.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || host.len() > 253 {
            return Err("must be a domain name of at most 253 characters");
        }
        let labels: Vec<&str> = host.split('.').collect();
        if labels.len() < 2 {
            return Err("must have at least two labels, like shop.example.com");
        }
        for label in &labels {
            let valid_chars = label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if label.is_empty()
                || label.len() > 63
                || !valid_chars
                || label.starts_with('-')
                || label.ends_with('-')
            {
                return Err(
                    "labels are 1-63 letters, digits or inner hyphens (use punycode for other scripts)",
                );
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("must be a domain name, not an IP address");
        }
        Ok(Self(host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_within(&self, parent: &str) -> bool {
        self.0 == parent || self.0.ends_with(&format!(".{parent}"))
    }
}

impl std::fmt::Display for Hostname {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `Host` header's name part, lowercased, without port or trailing dot.
pub fn normalize_host(header: &str) -> String {
    let host = header.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_domains_and_normalizes_case() {
        assert_eq!(
            Hostname::parse("Shop.Example.COM.").map(|h| h.0),
            Ok("shop.example.com".to_owned())
        );
        assert!(Hostname::parse("a-b.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_what_is_not_a_domain() {
        for bad in [
            "",
            "localhost",
            "shop..example.com",
            "-shop.example.com",
            "shop_x.example.com",
            "1.2.3.4",
            "shop.example.com:8080",
            "http://shop.example.com",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(Hostname::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_header_loses_port_and_case() {
        assert_eq!(normalize_host("ACME.localhost:8080"), "acme.localhost");
        assert_eq!(normalize_host("shop.example.com."), "shop.example.com");
    }
}
