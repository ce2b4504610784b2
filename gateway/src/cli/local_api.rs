//! Asking the running gateway: while it runs it holds the database, so tools on the same machine
//! read through its REST API instead. The gateway leaves its dashboard address (`pingan-http`)
//! and a tool token (`pingan-api-token`, readable by its user only) in its data directory at
//! every start; this is a minimal HTTP/1.1 client (GET, and POST of a JSON body) over a TCP
//! socket with that token.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::service::{HTTP_FILE, TOKEN_FILE};

/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: u16,
    /// The body, de-chunked.
    pub(crate) body: Vec<u8>,
}

/// The running gateway's dashboard address and tool token, from `data_dir`.
pub(crate) fn access(data_dir: &Path) -> Result<(SocketAddr, String), String> {
    let read = |name: &str| {
        std::fs::read_to_string(data_dir.join(name)).map_err(|e| {
            format!(
                "the gateway holds the database and {} cannot be read ({e}); run as the \
                 gateway's user (or root), or stop the gateway",
                data_dir.join(name).display()
            )
        })
    };
    let addr: SocketAddr = read(HTTP_FILE)?
        .trim()
        .parse()
        .map_err(|e| format!("{HTTP_FILE}: {e}"))?;
    // A gateway listening on every address is reached on loopback.
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok((
        SocketAddr::new(ip, addr.port()),
        read(TOKEN_FILE)?.trim().to_owned(),
    ))
}

/// `GET path` with the tool token.
pub(crate) async fn get(addr: SocketAddr, token: &str, path: &str) -> Result<Answer, String> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    );
    exchange(addr, request).await
}

/// `POST path` with the tool token and a JSON body.
pub(crate) async fn post(
    addr: SocketAddr,
    token: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<Answer, String> {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/json\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    exchange(addr, request).await
}

/// The `error` of a refusal, else the body as text.
pub(crate) fn error_of(answer: &Answer) -> String {
    serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned())
}

/// `s` for a URL path segment or query value: unreserved bytes as they are, others as `%XX`.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn exchange(addr: SocketAddr, request: String) -> Result<Answer, String> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("the gateway at {addr} did not answer within 30 s"))?
        .map_err(|e| format!("cannot reach the gateway's dashboard at {addr}: {e}"))?;
    parse(&raw).ok_or_else(|| format!("the gateway at {addr} sent a malformed answer"))
}

fn parse(raw: &[u8]) -> Option<Answer> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(raw.get(..split)?).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")
        })
    });
    let body = raw.get(split + 4..)?;
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some(Answer { status, body })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(b.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(eol + 2..eol + 2 + size)?);
        b = b.get(eol + 2 + size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_and_chunked_answers_are_read() {
        let plain = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((plain.status, plain.body.as_slice()), (200, &b"{}"[..]));
        let chunked =
            parse(b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(
            (chunked.status, chunked.body.as_slice()),
            (401, &b"abcde"[..])
        );
        assert!(parse(b"garbage").is_none());
    }

    proptest! {
        #[test]
        fn answer_parsing_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&raw);
        }
    }
}
