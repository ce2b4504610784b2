//! The first packet of an MQTT 3.1 / 3.1.1 connection, read far enough for the broker guard
//! (`mqtt::guard`) to decide: protocol level, clean-session flag, keep-alive and client id. Pure
//! and total: any bytes give a packet, "need more" or a typed error, never a panic.

/// Longest CONNECT accepted (a last will may carry a payload; rumqttd's limit is 256 KiB).
pub const MAX_CONNECT: usize = 300 * 1024;

/// What the guard needs from a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// 3 (MQIsdp), 4 (3.1.1), 5, …
    pub level: u8,
    /// Clean session.
    pub clean_session: bool,
    /// Keep-alive, seconds.
    pub keep_alive: u16,
    /// The client id (may be empty).
    pub client_id: String,
    /// Bytes of the whole packet (fixed header included).
    pub len: usize,
}

/// A first packet that is not an acceptable CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The first packet is not CONNECT.
    #[error("the first packet is not CONNECT (type {0})")]
    NotConnect(u8),
    /// The remaining length is malformed or above [`MAX_CONNECT`].
    #[error("malformed or oversized remaining length")]
    Length,
    /// The variable header or payload is cut short or malformed.
    #[error("malformed CONNECT: {0}")]
    Malformed(&'static str),
}

/// Parses the start of `buf`: `Ok(None)` while more bytes are needed.
pub fn parse(buf: &[u8]) -> Result<Option<Connect>, ConnectError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != 0x10 {
        return Err(ConnectError::NotConnect(first >> 4));
    }
    let Some((remaining, header)) = remaining_length(buf.get(1..).unwrap_or_default())? else {
        return Ok(None);
    };
    let len = 1 + header + remaining;
    if len > MAX_CONNECT {
        return Err(ConnectError::Length);
    }
    let Some(body) = buf.get(1 + header..len) else {
        return Ok(None);
    };
    let mut r = Reader(body);
    let name = r.string("protocol name")?;
    let level = r.byte("protocol level")?;
    if !matches!(name, b"MQTT" | b"MQIsdp") {
        return Err(ConnectError::Malformed("protocol name"));
    }
    let flags = r.byte("connect flags")?;
    if flags & 0x01 != 0 {
        return Err(ConnectError::Malformed("reserved flag set"));
    }
    let keep_alive = r.u16("keep alive")?;
    if level >= 5 {
        // MQTT 5 properties come first; the guard refuses level 5 anyway, but the client id is
        // still read for its log line.
        let (n, used) = remaining_length(r.0)?.ok_or(ConnectError::Malformed("properties"))?;
        r.skip(used + n, "properties")?;
    }
    let id = r.string("client id")?;
    let client_id = std::str::from_utf8(id)
        .map_err(|_| ConnectError::Malformed("client id is not UTF-8"))?
        .to_owned();
    Ok(Some(Connect {
        level,
        clean_session: flags & 0x02 != 0,
        keep_alive,
        client_id,
        len,
    }))
}

/// The MQTT variable-length integer at the start of `b`: (value, bytes used), `None` when cut.
/// Also read by `mqtt::subscribe_packet` for every packet's fixed header.
pub(crate) fn remaining_length(b: &[u8]) -> Result<Option<(usize, usize)>, ConnectError> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&byte) = b.get(i) else {
            return Ok(None);
        };
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err(ConnectError::Length)
}

/// Reads a packet's fields front to back (also used by `mqtt::subscribe_packet`).
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ConnectError> {
        let head = self.0.get(..n).ok_or(ConnectError::Malformed(what))?;
        self.0 = self.0.get(n..).unwrap_or_default();
        Ok(head)
    }

    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ConnectError> {
        self.take(n, what).map(|_| ())
    }

    pub(crate) fn byte(&mut self, what: &'static str) -> Result<u8, ConnectError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or_default())
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, ConnectError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or_default(),
            b.get(1).copied().unwrap_or_default(),
        ]))
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<&'a [u8], ConnectError> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }
}

/// A CONNACK (MQTT 3.1.1) with `code`: 1 unacceptable protocol, 2 identifier rejected, 3 server
/// unavailable, 5 not authorised.
pub fn connack(code: u8) -> [u8; 4] {
    [0x20, 0x02, 0x00, code]
}

/// A packet: `first` (type and flags), the remaining length, `body` (for tests of the parsers).
#[cfg(test)]
pub(crate) fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    let mut n = body.len();
    loop {
        let mut b = u8::try_from(n % 128).unwrap_or_default();
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        p.push(b);
        if n == 0 {
            break;
        }
    }
    p.extend_from_slice(body);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 3.1.1 CONNECT as a client sends it.
    pub(crate) fn connect(id: &str, clean: bool, keep_alive: u16) -> Vec<u8> {
        let mut body = vec![
            0,
            4,
            b'M',
            b'Q',
            b'T',
            b'T',
            4,
            if clean { 0x02 } else { 0 },
        ];
        body.extend(keep_alive.to_be_bytes());
        body.extend((id.len() as u16).to_be_bytes());
        body.extend(id.as_bytes());
        frame(0x10, &body)
    }

    #[test]
    fn reads_a_connect_and_waits_for_the_rest_of_one() {
        let p = connect("nurse-app-7", true, 30);
        let c = parse(&p).unwrap().unwrap();
        assert_eq!(
            c,
            Connect {
                level: 4,
                clean_session: true,
                keep_alive: 30,
                client_id: "nurse-app-7".into(),
                len: p.len()
            }
        );
        for cut in 0..p.len() {
            assert_eq!(parse(&p[..cut]), Ok(None), "cut at {cut}");
        }
        let mut more = p.clone();
        more.extend([0xc0, 0x00]);
        assert_eq!(parse(&more).unwrap().unwrap().len, p.len());
    }

    #[test]
    fn other_packets_and_malformed_connects_are_errors() {
        assert_eq!(parse(&[0x30, 0x00]), Err(ConnectError::NotConnect(3)));
        assert_eq!(
            parse(&[0x10, 0xff, 0xff, 0xff, 0xff]),
            Err(ConnectError::Length)
        );
        assert_eq!(parse(&[0x10, 0xff, 0xff, 0x7f]), Err(ConnectError::Length));
        let mut p = connect("x", true, 30);
        p[3] = b'X';
        assert!(matches!(parse(&p), Err(ConnectError::Malformed(_))));
        assert_eq!(connack(2), [0x20, 2, 0, 2]);
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_error_without_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&b);
            let mut c = vec![0x10];
            c.extend(&b);
            let _ = parse(&c);
        }

        #[test]
        fn every_client_id_round_trips(id in "[ -~]{0,100}", clean in any::<bool>(), ka in any::<u16>()) {
            let c = parse(&connect(&id, clean, ka)).unwrap().unwrap();
            prop_assert_eq!((c.client_id, c.clean_session, c.keep_alive), (id, clean, ka));
        }
    }
}
