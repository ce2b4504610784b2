//! Who can reach what: the rules that keep alerts from being silenced, forged or read by anyone
//! who merely shares the network (docs/SECURITY.md).
//!
//! - Refused: an embedded broker outside loopback. rumqttd 0.20 can check a password at CONNECT
//!   but has no topic ACLs and does not tell subscribers who published, so any client that gets
//!   in could publish a forged alert snapshot or a command in anybody's name. Nurse apps and
//!   platforms on the LAN use the Mosquitto deployment (`pingan mosquitto`) as an uplink.
//! - Warned: uplinks without TLS to another host (passwords, alerts and readings cross the
//!   network in clear), uplinks whose commands name their person in the body (anyone allowed to
//!   publish there acts under any name), a dashboard reachable from other hosts over plain HTTP.

use std::net::SocketAddr;

use super::model::{CommandIdentity, Config};

/// Refusals, as (key, what was expected).
pub(super) fn check(c: &Config, p: &mut Vec<(String, String)>) {
    if !c.mqtt.bind.ip().is_loopback() {
        p.push((
            "mqtt.bind".into(),
            format!(
                "the embedded broker must listen on loopback (127.0.0.1 or [::1]), not {}: it cannot tell who publishes, so anyone on the network could silence or forge alerts and read residents' vitals. For nurse apps and platforms on the LAN run Mosquitto with per-user passwords and ACLs (`pingan mosquitto`, docs/SECURITY.md) and add it as an [[uplinks]] entry",
                c.mqtt.bind
            ),
        ));
    }
}

/// Advice that does not stop the gateway, as (key, what to consider).
pub fn warnings(c: &Config) -> Vec<(String, String)> {
    let mut w = Vec::new();
    for (i, u) in c.uplinks.iter().enumerate() {
        let at = |k: &str| format!("uplinks[{i}].{k}");
        let key = if u.urls.is_empty() { "url" } else { "urls" };
        for url in u.endpoints(&format!("uplinks[{i}]")).unwrap_or_default() {
            if !url.tls && !is_local_host(&url.host) {
                w.push((
                    at(key),
                    format!(
                        "no TLS to {}: the password, alerts and readings cross the network in clear; use mqtts:// with ca_file (docs/SECURITY.md)",
                        url.host
                    ),
                ));
            }
        }
        if u.commands && u.command_identity == CommandIdentity::Body {
            w.push((
                at("command_identity"),
                "commands from this broker name their person in the payload: anyone allowed to publish there can acknowledge or resolve under any name; with per-user ACLs set command_identity = \"topic\" (docs/SECURITY.md)".into(),
            ));
        }
    }
    if !is_loopback(c.http.bind) {
        w.push((
            "http.bind".into(),
            format!(
                "the dashboard on {} is plain HTTP: passwords and session cookies cross the LAN in clear; put a TLS reverse proxy in front or keep it to a closed staff network (docs/SECURITY.md)",
                c.http.bind
            ),
        ));
    }
    w
}

fn is_loopback(a: SocketAddr) -> bool {
    a.ip().is_loopback()
}

fn is_local_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Config, Vec<String>> {
        let text = format!("[site]\nid = \"t\"\nname = \"T\"\n{toml}");
        Config::parse(&text, "t.toml")
            .map_err(|e| e.problems.into_iter().map(|p| p.message).collect())
    }

    #[test]
    fn an_embedded_broker_on_the_lan_is_refused_with_the_way_out() {
        let e = parse("[mqtt]\nbind = \"0.0.0.0:1883\"\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("loopback") && e[0].contains("pingan mosquitto"),
            "{e:?}"
        );
        assert!(parse("[mqtt]\nbind = \"192.168.1.5:1883\"\n").is_err());
        assert!(parse("[mqtt]\nbind = \"127.0.0.1:1883\"\n").is_ok());
        assert!(parse("[mqtt]\nbind = \"[::1]:1883\"\n").is_ok());
    }

    #[test]
    fn plain_uplinks_body_identities_and_a_lan_dashboard_are_warned_about() {
        let c = parse(
            "[http]\nbind = \"0.0.0.0:8080\"\n\
             [[uplinks]]\nid = \"lan\"\nurl = \"mqtt://192.168.1.2:1883\"\ncommands = true\n\
             [[uplinks]]\nid = \"own\"\nurl = \"mqtt://127.0.0.1:1884\"\ncommands = true\ncommand_identity = \"topic\"\n",
        )
        .unwrap();
        let keys: Vec<String> = warnings(&c).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["uplinks[0].url", "uplinks[0].command_identity", "http.bind"]
        );
        assert!(warnings(&Config::default_config()).is_empty());
    }
}
