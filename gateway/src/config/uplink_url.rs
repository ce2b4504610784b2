//! `mqtt://host:port` and `mqtts://host:port` uplink addresses.

/// A parsed uplink address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UplinkUrl {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS (`mqtts://`).
    pub tls: bool,
}

/// An address that is not `mqtt[s]://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{url}\" is not a valid uplink address: {why}; expected mqtt://HOST:PORT or mqtts://HOST:PORT"
)]
pub struct UrlError {
    url: String,
    why: &'static str,
}

impl UplinkUrl {
    /// Parses an uplink address; the port defaults to 1883 (mqtt) or 8883 (mqtts).
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err = |why| UrlError {
            url: url.to_owned(),
            why,
        };
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else {
            return Err(err("unknown scheme"));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse()
                    .map_err(|_| err("the port is not a number 1–65535"))?,
            ),
            None => (rest, if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() || host.contains('/') {
            return Err(err("missing or malformed host"));
        }
        if port == 0 {
            return Err(err("the port is not a number 1–65535"));
        }
        Ok(Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_and_default_ports() {
        assert_eq!(
            UplinkUrl::parse("mqtt://127.0.0.1:1999").unwrap(),
            UplinkUrl {
                host: "127.0.0.1".into(),
                port: 1999,
                tls: false
            }
        );
        assert_eq!(UplinkUrl::parse("mqtts://h").unwrap().port, 8883);
        assert!(UplinkUrl::parse("http://h").is_err());
        assert!(UplinkUrl::parse("mqtt://h:99999").is_err());
        assert!(UplinkUrl::parse("mqtt://:1883").is_err());
    }
}
