//! Cross-checks of a parsed config. Each problem is (key path, what was expected).

use std::collections::{HashMap, HashSet};

use pingan_drivers::DriverConfig;

use super::model::Config;
use super::vocab::AlertKind;

type Problems = Vec<(String, String)>;

pub(super) fn check(c: &Config) -> Problems {
    let mut p = Problems::new();
    site(c, &mut p);
    let floors = unique(c.floors.iter().map(|f| f.id.as_str()), "floors", &mut p);
    let rooms = unique(c.rooms.iter().map(|r| r.id.as_str()), "rooms", &mut p);
    let residents = unique(
        c.residents.iter().map(|r| r.id.as_str()),
        "residents",
        &mut p,
    );
    let drivers = unique(c.drivers.iter().map(|d| d.id.as_str()), "drivers", &mut p);
    let contacts = unique(c.contacts.iter().map(|d| d.id.as_str()), "contacts", &mut p);
    let uplinks = unique(c.uplinks.iter().map(|d| d.id.as_str()), "uplinks", &mut p);
    unique(c.devices.iter().map(|d| d.id.as_str()), "devices", &mut p);
    let beds: HashMap<&str, HashSet<&str>> = c
        .rooms
        .iter()
        .map(|r| (r.id.as_str(), r.beds.iter().map(String::as_str).collect()))
        .collect();
    for (i, r) in c.rooms.iter().enumerate() {
        expect_in(
            &floors,
            &r.floor,
            &format!("rooms[{i}].floor"),
            "floor",
            "[[floors]]",
            &mut p,
        );
    }
    for (i, r) in c.residents.iter().enumerate() {
        expect_in(
            &rooms,
            &r.room,
            &format!("residents[{i}].room"),
            "room",
            "[[rooms]]",
            &mut p,
        );
        if let (Some(bed), Some(room_beds)) = (&r.bed, beds.get(r.room.as_str())) {
            if !room_beds.contains(bed.as_str()) {
                p.push((
                    format!("residents[{i}].bed"),
                    format!(
                        "bed \"{bed}\" is not one of the beds of room \"{}\"",
                        r.room
                    ),
                ));
            }
        }
    }
    devices(c, &residents, &rooms, &drivers, &mut p);
    driver_devices(c, &mut p);
    for (i, ct) in c.contacts.iter().enumerate() {
        if let Some(u) = &ct.uplink {
            expect_in(
                &uplinks,
                u,
                &format!("contacts[{i}].uplink"),
                "uplink",
                "[[uplinks]]",
                &mut p,
            );
        }
    }
    escalation(c, &contacts, &mut p);
    uplink_settings(c, &mut p);
    if let Some(bind) = c.metrics.bind {
        if !bind.ip().is_loopback() && c.metrics.token_file.is_none() {
            p.push((
                "metrics.bind".into(),
                format!("{bind} is reachable from the network; set metrics.token_file so only scrapers with the token read /metrics, or bind to 127.0.0.1"),
            ));
        }
    }
    shifts(c, &mut p);
    super::limits::check(c, &mut p);
    super::exposure::check(c, &mut p);
    p
}

fn shifts(c: &Config, p: &mut Problems) {
    let list = c.shifts.as_written();
    if list.is_empty() {
        p.push((
            "shifts".into(),
            "expected at least one [[shifts]] entry (or none of them, for the default day/evening/night)".into(),
        ));
    }
    unique(list.iter().map(|s| s.id.as_str()), "shifts", p);
    let mut starts = HashSet::new();
    for (i, s) in list.iter().enumerate() {
        let ok =
            s.id.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
        if !ok || s.id.len() > 32 {
            p.push((
                format!("shifts[{i}].id"),
                format!(
                    "\"{}\" is not a valid shift id; expected 1–32 of a-z, 0-9, '-' and '_'",
                    s.id
                ),
            ));
        }
        if !starts.insert(s.start) {
            p.push((
                format!("shifts[{i}].start"),
                format!(
                    "two shifts start at {}; each shift ends when the next one starts",
                    s.start
                ),
            ));
        }
    }
}

fn site(c: &Config, p: &mut Problems) {
    let id = &c.site.id;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
    if !ok {
        p.push((
            "site.id".into(),
            format!("\"{id}\" is not a valid site id; expected 1–64 of a-z, 0-9, '-' and '_' (it is part of MQTT topics)"),
        ));
    }
    if c.storage.retention.is_zero() {
        p.push((
            "storage.retention".into(),
            "expected a duration above zero, e.g. \"30d\"".into(),
        ));
    }
    if c.alerts.undelivered_after.is_zero() {
        p.push((
            "alerts.undelivered_after".into(),
            "expected a duration above zero, e.g. \"60s\"".into(),
        ));
    }
    for (i, u) in c.uplinks.iter().enumerate() {
        if u.ack_timeout.is_zero() {
            p.push((
                format!("uplinks[{i}].ack_timeout"),
                "expected a duration above zero, e.g. \"15s\"".into(),
            ));
        }
    }
}

fn unique<'a>(
    ids: impl Iterator<Item = &'a str>,
    table: &str,
    p: &mut Problems,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if id.trim().is_empty() {
            p.push((format!("{table}[{i}].id"), "expected a non-empty id".into()));
        } else if !seen.insert(id) {
            p.push((
                format!("{table}[{i}].id"),
                format!("duplicate id \"{id}\"; ids must be unique in [[{table}]]"),
            ));
        }
    }
    seen
}

fn expect_in(
    set: &HashSet<&str>,
    value: &str,
    key: &str,
    what: &str,
    table: &str,
    p: &mut Problems,
) {
    if !set.contains(value) {
        p.push((
            key.to_owned(),
            format!("unknown {what} \"{value}\"; expected one of the ids in {table}"),
        ));
    }
}

fn devices(
    c: &Config,
    residents: &HashSet<&str>,
    rooms: &HashSet<&str>,
    drivers: &HashSet<&str>,
    p: &mut Problems,
) {
    let sim_drivers: HashSet<&str> = c
        .drivers
        .iter()
        .filter(|d| matches!(d.config, DriverConfig::Sim(_)))
        .map(|d| d.id.as_str())
        .collect();
    for (i, d) in c.devices.iter().enumerate() {
        let at = |k: &str| format!("devices[{i}].{k}");
        expect_in(
            drivers,
            &d.driver,
            &at("driver"),
            "driver",
            "[[drivers]]",
            p,
        );
        match (&d.resident, &d.room) {
            (Some(r), None) => expect_in(
                residents,
                r,
                &at("resident"),
                "resident",
                "[[residents]]",
                p,
            ),
            (None, Some(r)) => expect_in(rooms, r, &at("room"), "room", "[[rooms]]", p),
            (Some(_), Some(_)) => p.push((
                at("room"),
                "a device is bound to a resident or a room, not both".into(),
            )),
            (None, None) => p.push((
                at("id"),
                format!(
                    "device \"{}\" needs `resident = \"…\"` or `room = \"…\"`",
                    d.id
                ),
            )),
        }
        if sim_drivers.contains(d.driver.as_str()) && d.model.sim_model().is_none() {
            p.push((
                at("model"),
                format!("the simulator cannot play a {:?}", d.model),
            ));
        }
        if d.report_interval.is_some_and(|t| t.is_zero()) {
            p.push((
                at("report_interval"),
                "expected a duration above zero".into(),
            ));
        }
        if d.model.is_wearable() && d.resident.is_none() {
            p.push((
                at("resident"),
                "a wearable must be bound to the resident who wears it".into(),
            ));
        }
    }
}

fn escalation(c: &Config, contacts: &HashSet<&str>, p: &mut Problems) {
    let mut claimed: HashMap<AlertKind, usize> = HashMap::new();
    let mut defaults = 0;
    for (i, pol) in c.escalation.policies.iter().enumerate() {
        let at = |k: &str| format!("escalation.policies[{i}].{k}");
        if pol.kinds.is_empty() {
            defaults += 1;
            if defaults > 1 {
                p.push((
                    at("kinds"),
                    "only one policy may leave `kinds` empty (the default policy)".into(),
                ));
            }
        }
        for k in &pol.kinds {
            if let Some(other) = claimed.insert(*k, i) {
                p.push((
                    at("kinds"),
                    format!("kind \"{k}\" is already governed by escalation.policies[{other}]"),
                ));
            }
        }
        if pol.levels.is_empty() {
            p.push((at("levels"), "expected at least one level".into()));
        }
        let last = pol.levels.len().saturating_sub(1);
        for (j, l) in pol.levels.iter().enumerate() {
            for (k, ct) in l.contacts.iter().enumerate() {
                expect_in(
                    contacts,
                    ct,
                    &format!("escalation.policies[{i}].levels[{j}].contacts[{k}]"),
                    "contact",
                    "[[contacts]]",
                    p,
                );
            }
            if j < last && l.timeout.is_none_or(|t| t.is_zero()) {
                p.push((
                    format!("escalation.policies[{i}].levels[{j}].timeout"),
                    "expected a timeout above zero on every level but the last, e.g. \"60s\""
                        .into(),
                ));
            }
        }
    }
}

fn uplink_settings(c: &Config, p: &mut Problems) {
    for (i, u) in c.uplinks.iter().enumerate() {
        let at = |k: &str| format!("uplinks[{i}].{k}");
        if [super::vocab::LinkId::LOCAL, super::vocab::LinkId::DASHBOARD].contains(&u.id.as_str()) {
            p.push((
                at("id"),
                format!("\"{}\" is reserved (the embedded broker's link and the dashboard); choose another uplink id", u.id),
            ));
        }
        match u.endpoints(&format!("uplinks[{i}]")) {
            Ok(nodes) if nodes.iter().any(|n| n.tls) && u.ca_file.is_none() => {
                p.push((
                    at("ca_file"),
                    "an mqtts:// uplink needs `ca_file` (PEM) to verify the broker".into(),
                ));
            }
            Ok(_) => {}
            Err(problems) => p.extend(problems),
        }
        if u.client_cert.is_some() != u.client_key.is_some() {
            p.push((
                at("client_key"),
                "`client_cert` and `client_key` go together".into(),
            ));
        }
        if u.password_file.is_some() && u.username.is_none() {
            p.push((at("username"), "`password_file` needs `username`".into()));
        }
    }
}

/// Devices a driver instance reads must be facility devices bound to that instance, or their
/// readings would be ignored as unknown at run time.
fn driver_devices(c: &Config, p: &mut Problems) {
    let bound: HashMap<&str, &str> = c
        .devices
        .iter()
        .map(|d| (d.id.as_str(), d.driver.as_str()))
        .collect();
    for (i, inst) in c.drivers.iter().enumerate() {
        let ids: Vec<(String, &str)> = match &inst.config {
            DriverConfig::Sim(_) => Vec::new(),
            DriverConfig::Modbus(m) => m
                .devices
                .iter()
                .enumerate()
                .flat_map(|(j, d)| {
                    std::iter::once((
                        format!("drivers[{i}].devices[{j}].device"),
                        d.device.as_str(),
                    ))
                    .chain(d.channels.iter().map(move |(ch, id)| {
                        (
                            format!("drivers[{i}].devices[{j}].channels.{ch}"),
                            id.as_str(),
                        )
                    }))
                })
                .collect(),
            DriverConfig::Ble(b) => b
                .devices
                .iter()
                .enumerate()
                .map(|(j, d)| (format!("drivers[{i}].devices[{j}].id"), d.id.as_str()))
                .collect(),
        };
        for (key, id) in ids {
            match bound.get(id) {
                Some(driver) if *driver == inst.id => {}
                Some(driver) => p.push((key, format!("device \"{id}\" is bound to driver \"{driver}\" in [[devices]], not to \"{}\"", inst.id))),
                None => p.push((key, format!("device \"{id}\" is not in [[devices]]; add it there with driver = \"{}\" and its resident or room", inst.id))),
            }
        }
    }
}
