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

impl super::UplinkConfig {
    /// The uplink's broker nodes in order: `urls`, or the single `url`. Every problem is
    /// `(key, what was expected)`, e.g. `("uplinks[0].urls[1]", …)` with `at` = `uplinks[0]`.
    pub fn endpoints(&self, at: &str) -> Result<Vec<UplinkUrl>, Vec<(String, String)>> {
        let listed: Vec<(String, &str)> = match (&self.url, self.urls.as_slice()) {
            (Some(_), [_, ..]) => {
                return Err(vec![(
                    format!("{at}.urls"),
                    "set either `url` (one broker) or `urls` (the nodes of a cluster), not both"
                        .into(),
                )]);
            }
            (Some(u), []) => vec![(format!("{at}.url"), u.as_str())],
            (None, []) => {
                return Err(vec![(
                    format!("{at}.id"),
                    format!(
                        "uplink \"{}\" needs `url = \"mqtt://HOST:PORT\"` or `urls = [\"mqtt://NODE1:PORT\", …]`",
                        self.id
                    ),
                )]);
            }
            (None, urls) => urls
                .iter()
                .enumerate()
                .map(|(j, u)| (format!("{at}.urls[{j}]"), u.as_str()))
                .collect(),
        };
        let mut nodes: Vec<UplinkUrl> = Vec::new();
        let mut problems = Vec::new();
        for (key, text) in listed {
            match UplinkUrl::parse(text) {
                Ok(u) if nodes.iter().any(|n| n.host == u.host && n.port == u.port) => {
                    problems.push((key, format!("\"{text}\" is listed twice")));
                }
                Ok(u) if nodes.first().is_some_and(|f| f.tls != u.tls) => problems.push((
                    key,
                    "every node of one uplink uses the same scheme (mqtt:// or mqtts://, one ca_file)"
                        .into(),
                )),
                Ok(u) => nodes.push(u),
                Err(e) => problems.push((key, e.to_string())),
            }
        }
        if problems.is_empty() {
            Ok(nodes)
        } else {
            Err(problems)
        }
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
