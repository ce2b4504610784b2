//! Reads the SUBSCRIBE and UNSUBSCRIBE packets (MQTT 3.1.1, the only level the guard admits) out
//! of a client's byte stream as the front copies it to rumqttd, so the gateway knows which topics
//! anybody listens to (`mqtt::interest`). Pure and incremental: bytes in any chunking, changes
//! out. Everything else is skipped without being buffered. It never decides anything about the
//! connection: a malformed packet is rumqttd's to refuse; the scanner then stops reading and says
//! "everything" so nothing is held back from a client it misunderstood.

use super::connect_packet::{Reader, remaining_length};

/// A SUBSCRIBE or UNSUBSCRIBE larger than this is not parsed (taken as interest in everything).
pub const MAX_SCANNED: usize = 64 * 1024;

/// What a client's packets changed about its subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Topic filters subscribed.
    Subscribe(Vec<String>),
    /// Topic filters unsubscribed.
    Unsubscribe(Vec<String>),
    /// The stream could not be followed: treat the client as interested in every topic.
    Everything,
}

const SUBSCRIBE: u8 = 0x82;
const UNSUBSCRIBE: u8 = 0xA2;

#[derive(Debug, Default)]
enum State {
    /// Reading a fixed header (type byte, then 1–4 remaining-length bytes).
    #[default]
    Header,
    /// Inside a packet's body: `left` bytes to go; kept when it is a (un)subscribe.
    Body { kind: u8, left: usize, keep: bool },
    /// Lost the framing: nothing more is read.
    Lost,
}

/// The incremental scanner of one connection (client → broker direction).
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
    header: Vec<u8>,
    body: Vec<u8>,
}

impl Scanner {
    /// Feeds the next bytes of the stream; returns the changes of the packets completed in them.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<Change> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            match &mut self.state {
                State::Lost => break,
                State::Header => {
                    self.header.push(bytes[0]);
                    bytes = &bytes[1..];
                    match remaining_length(self.header.get(1..).unwrap_or_default()) {
                        Ok(None) => {}
                        Err(_) => {
                            self.state = State::Lost;
                            out.push(Change::Everything);
                        }
                        Ok(Some((left, _))) => {
                            let kind = self.header[0];
                            self.header.clear();
                            let wanted = kind == SUBSCRIBE || kind == UNSUBSCRIBE;
                            if wanted && left > MAX_SCANNED {
                                out.push(Change::Everything);
                            }
                            let keep = wanted && left <= MAX_SCANNED;
                            self.state = State::Body { kind, left, keep };
                            if left == 0 {
                                self.finish(&mut out);
                            }
                        }
                    }
                }
                State::Body { left, keep, .. } => {
                    let n = (*left).min(bytes.len());
                    if *keep {
                        self.body.extend_from_slice(&bytes[..n]);
                    }
                    *left -= n;
                    bytes = &bytes[n..];
                    if *left == 0 {
                        self.finish(&mut out);
                    }
                }
            }
        }
        out
    }

    fn finish(&mut self, out: &mut Vec<Change>) {
        if let State::Body {
            kind, keep: true, ..
        } = self.state
        {
            match filters(&self.body, kind == SUBSCRIBE) {
                Some(f) if kind == SUBSCRIBE => out.push(Change::Subscribe(f)),
                Some(f) => out.push(Change::Unsubscribe(f)),
                None => out.push(Change::Everything),
            }
        }
        self.body = Vec::new();
        self.state = State::Header;
    }
}

/// The topic filters of a SUBSCRIBE (each followed by a QoS byte) or UNSUBSCRIBE body, after its
/// packet id. `None` when malformed.
fn filters(body: &[u8], with_qos: bool) -> Option<Vec<String>> {
    let mut r = Reader(body);
    r.u16("packet id").ok()?;
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let name = r.string("topic filter").ok()?;
        out.push(std::str::from_utf8(name).ok()?.to_owned());
        if with_qos {
            r.byte("requested QoS").ok()?;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::connect_packet::frame;
    use proptest::prelude::*;

    fn subscribe(id: u16, filters: &[&str]) -> Vec<u8> {
        packet(SUBSCRIBE, id, filters, true)
    }

    fn packet(kind: u8, id: u16, filters: &[&str], qos: bool) -> Vec<u8> {
        let mut body = id.to_be_bytes().to_vec();
        for f in filters {
            body.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
            body.extend_from_slice(f.as_bytes());
            if qos {
                body.push(0);
            }
        }
        frame(kind, &body)
    }

    /// A QoS 0 PUBLISH: topic length, topic, payload.
    fn publish(topic: &str, payload: usize) -> Vec<u8> {
        let mut body = u16::try_from(topic.len()).unwrap().to_be_bytes().to_vec();
        body.extend_from_slice(topic.as_bytes());
        body.extend(std::iter::repeat_n(7u8, payload));
        frame(0x30, &body)
    }

    #[test]
    fn subscribe_and_unsubscribe_between_other_packets() {
        let mut stream = publish("a/b", 20);
        stream.extend([0xC0, 0x00]); // PINGREQ
        stream.extend(subscribe(1, &["pingan/s/readings/+", "pingan/#"]));
        stream.extend(packet(UNSUBSCRIBE, 2, &["pingan/#"], false));
        let mut s = Scanner::default();
        assert_eq!(
            s.feed(&stream),
            vec![
                Change::Subscribe(vec!["pingan/s/readings/+".into(), "pingan/#".into()]),
                Change::Unsubscribe(vec!["pingan/#".into()]),
            ]
        );
    }

    #[test]
    fn a_malformed_length_or_body_means_everything() {
        let mut s = Scanner::default();
        assert_eq!(
            s.feed(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF]),
            vec![Change::Everything]
        );
        assert!(s.feed(&subscribe(1, &["x"])).is_empty(), "lost stays lost");
        let mut s = Scanner::default();
        // filter length says 9 but 1 byte follows
        assert_eq!(
            s.feed(&[SUBSCRIBE, 5, 0, 1, 0, 9, b'x']),
            vec![Change::Everything]
        );
        let mut s = Scanner::default();
        let mut big = vec![SUBSCRIBE];
        big.extend([0x80, 0x80, 0x08]); // 131072 bytes
        assert_eq!(s.feed(&big), vec![Change::Everything]);
    }

    proptest! {
        /// However the stream is cut into reads, the same changes come out.
        #[test]
        fn chunking_does_not_matter(cuts in proptest::collection::vec(1usize..40, 1..30),
                                    filters in proptest::collection::vec("[a-z/+#]{1,30}", 1..6)) {
            let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
            let mut stream = publish("t", 3);
            stream.extend(subscribe(9, &refs));
            stream.extend([0xC0, 0x00]);
            stream.extend(packet(UNSUBSCRIBE, 10, &refs, false));
            let whole = Scanner::default().feed(&stream);
            let mut s = Scanner::default();
            let mut got = Vec::new();
            let mut rest = &stream[..];
            for c in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let n = (*c).min(rest.len());
                got.extend(s.feed(&rest[..n]));
                rest = &rest[n..];
            }
            prop_assert_eq!(&got, &whole);
            prop_assert_eq!(whole, vec![Change::Subscribe(filters.clone()), Change::Unsubscribe(filters)]);
        }

        /// Arbitrary bytes never panic.
        #[test]
        fn any_bytes_are_safe(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Scanner::default().feed(&bytes);
        }
    }
}
