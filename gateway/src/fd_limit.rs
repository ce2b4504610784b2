//! The process's open-file limit and the connection caps that fit inside it. Every accepted
//! socket costs a file descriptor; when they run out, `accept` fails for everyone — the
//! dashboard, the broker, the database opening a new segment. So the soft limit is raised to the
//! hard one at start (`LimitNOFILE` in the systemd unit sets both), and the broker guard and the
//! dashboard each cap their connections to a share of it, leaving a reserve for the rest.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept for everything but client connections: the database, uplinks, Modbus and
/// serial ports, logs.
pub const RESERVE: u64 = 256;
/// Descriptors one client of the embedded broker costs: its socket, the guard's socket to
/// rumqttd, and rumqttd's end of it.
pub const PER_MQTT_CLIENT: u64 = 3;
/// The soft limit is raised at most this far (enough for every cap; a huge limit only makes
/// `select`-style code in libraries slow).
const WANTED: u64 = 65_536;
/// Assumed when the limit cannot be read.
const FALLBACK: u64 = 1024;

/// Raises the soft open-file limit towards the hard one; returns the soft limit now.
pub fn raise() -> u64 {
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    let hard = now.maximum.unwrap_or(u64::MAX);
    let want = hard.min(WANTED);
    if soft < want {
        let new = Rlimit {
            current: Some(want),
            maximum: now.maximum,
        };
        if let Err(error) = setrlimit(Resource::Nofile, new) {
            tracing::debug!(%error, "cannot raise the open-file limit");
        }
    }
    current()
}

/// The soft open-file limit.
pub fn current() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(FALLBACK)
}

/// (broker clients, dashboard connections) that fit into `limit` descriptors, at most the
/// wanted numbers: the dashboard keeps at least a third of what is left after the reserve, so
/// a broker flood cannot take the nurses' screens with it, and vice versa.
pub fn caps(limit: u64, mqtt_wanted: usize, http_wanted: usize) -> (usize, usize) {
    let free = limit.saturating_sub(RESERVE);
    let http_floor = free / 3;
    let mqtt_fds = (mqtt_wanted as u64).saturating_mul(PER_MQTT_CLIENT);
    let mqtt_fds = mqtt_fds.min(free.saturating_sub(http_floor.min(http_wanted as u64)));
    let mqtt = usize::try_from(mqtt_fds / PER_MQTT_CLIENT).unwrap_or(usize::MAX);
    let http_fds = free.saturating_sub(mqtt_fds);
    let http = usize::try_from(http_fds)
        .unwrap_or(usize::MAX)
        .min(http_wanted);
    (mqtt.max(1), http.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generous_limit_gives_every_cap_in_full() {
        assert_eq!(caps(16_384, 256, 512), (256, 512));
        assert_eq!(caps(65_536, 1000, 512), (1000, 512));
    }

    #[test]
    fn a_small_limit_is_shared_without_exceeding_it() {
        let (mqtt, http) = caps(1024, 256, 512);
        assert!(mqtt as u64 * PER_MQTT_CLIENT + http as u64 + RESERVE <= 1024);
        assert!(http >= 256, "the dashboard keeps a third: {http}");
        assert!(mqtt >= 100, "{mqtt}");
        assert_eq!(caps(0, 256, 512), (1, 1));
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = current();
        assert!(raise() >= before);
    }
}
