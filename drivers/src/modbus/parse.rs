//! Profile parsing and validation, with errors that point at `FILE:LINE:COL`.
//!
//! Pure: text in, [`Profile`] or [`ProfileError`] out. Syntax and type errors come from the
//! TOML deserializer with their span; semantic errors (overlaps, ranges, orders, incomplete
//! measurements) use the spans kept by [`Spanned`] fields.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::location::{Locator, ProfileError, key_at};
use super::profile::{Command, DataType, Example, Point, Profile, Table, Target, WordOrder};

const DEFAULT_POLL: Duration = Duration::from_secs(5);
const DEFAULT_MAX_GAP: u16 = 8;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    poll_interval: Option<Spanned<String>>,
    #[serde(default)]
    max_gap: Option<Spanned<i64>>,
    #[serde(default)]
    points: Vec<RawPoint>,
    #[serde(default)]
    commands: BTreeMap<String, RawCommand>,
    #[serde(default)]
    example: Option<RawExample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(default)]
    coil: BTreeMap<String, bool>,
    #[serde(default)]
    discrete: BTreeMap<String, bool>,
    #[serde(default)]
    input: BTreeMap<String, u16>,
    #[serde(default)]
    holding: BTreeMap<String, u16>,
    expect: Spanned<BTreeMap<String, toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    name: Spanned<String>,
    table: Spanned<Table>,
    address: Spanned<i64>,
    #[serde(rename = "type")]
    data_type: Spanned<DataType>,
    #[serde(default)]
    byte_order: Option<Spanned<WordOrder>>,
    #[serde(default)]
    bit: Option<Spanned<i64>>,
    #[serde(default)]
    alarm_bits: Option<Spanned<Vec<i64>>>,
    #[serde(default)]
    scale: Option<Spanned<f64>>,
    #[serde(default)]
    offset: Option<Spanned<f64>>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    invert: bool,
    #[serde(default)]
    maps_to: Option<Spanned<Target>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    table: Spanned<Table>,
    address: Spanned<i64>,
    #[serde(default)]
    value: Option<Spanned<i64>>,
    #[serde(default)]
    values: Option<Spanned<Vec<i64>>>,
    #[serde(default)]
    description: Option<String>,
}

/// Parses and validates a profile. `file` names it in errors.
pub fn parse_profile(file: &str, text: &str) -> Result<Profile, ProfileError> {
    let locate = Locator { file, text };
    let raw: RawProfile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let key = key_at(text, span.start);
        locate.error(span, &key, e.message().trim())
    })?;
    validate(&locate, raw)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn to_u16(
    locate: &Locator<'_>,
    key: &str,
    v: &Spanned<i64>,
    what: &str,
) -> Result<u16, ProfileError> {
    u16::try_from(*v.get_ref()).map_err(|_| {
        locate.error(
            v.span(),
            key,
            format!(
                "{what} out of range: expected 0..=65535, got {}",
                v.get_ref()
            ),
        )
    })
}

fn validate(locate: &Locator<'_>, raw: RawProfile) -> Result<Profile, ProfileError> {
    if !is_identifier(raw.name.get_ref()) {
        return Err(locate.error(
            raw.name.span(),
            "name",
            "expected a name of lowercase letters, digits and `_`",
        ));
    }
    let poll_interval = match &raw.poll_interval {
        None => DEFAULT_POLL,
        Some(s) => match humantime_serde::re::humantime::parse_duration(s.get_ref()) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                return Err(locate.error(
                    s.span(),
                    "poll_interval",
                    "expected a non-zero duration such as \"5s\" or \"500ms\"",
                ));
            }
        },
    };
    let max_gap = match &raw.max_gap {
        None => DEFAULT_MAX_GAP,
        Some(g) => match u16::try_from(*g.get_ref()) {
            Ok(g) if g <= super::profile::MAX_REGISTERS_PER_READ => g,
            _ => {
                return Err(locate.error(g.span(), "max_gap", "expected 0..=125"));
            }
        },
    };
    if raw.points.is_empty() {
        return Err(locate.error(0..0, "points", "expected at least one [[points]] entry"));
    }
    let mut names = HashSet::new();
    let mut points = Vec::with_capacity(raw.points.len());
    for (i, rp) in raw.points.iter().enumerate() {
        let point = validate_point(locate, i, rp)?;
        if !names.insert(point.name.clone()) {
            return Err(locate.error(
                rp.name.span(),
                &format!("points[{i}].name"),
                format!("duplicate point name `{}`", point.name),
            ));
        }
        points.push(point);
    }
    check_overlaps(locate, &raw.points, &points)?;
    check_targets(locate, &raw.points, &points)?;
    let mut commands = BTreeMap::new();
    for (name, rc) in &raw.commands {
        let cmd = validate_command(locate, name, rc)?;
        commands.insert(name.clone(), cmd);
    }
    let example = match raw.example {
        None => None,
        Some(e) => Some(validate_example(locate, e, &points)?),
    };
    Ok(Profile {
        name: raw.name.into_inner(),
        description: raw.description,
        poll_interval,
        max_gap,
        points,
        commands,
        example,
    })
}

fn validate_point(locate: &Locator<'_>, i: usize, rp: &RawPoint) -> Result<Point, ProfileError> {
    let key = |k: &str| format!("points[{i}].{k}");
    let name = rp.name.get_ref().clone();
    if !is_identifier(&name) {
        return Err(locate.error(
            rp.name.span(),
            &key("name"),
            "expected a name of lowercase letters, digits and `_`",
        ));
    }
    let table = *rp.table.get_ref();
    let data_type = *rp.data_type.get_ref();
    let address = to_u16(locate, &key("address"), &rp.address, "address")?;
    let width = if table.is_bits() {
        1
    } else {
        data_type.width()
    };
    if u32::from(address) + u32::from(width) - 1 > u32::from(u16::MAX) {
        return Err(locate.error(
            rp.address.span(),
            &key("address"),
            format!("address out of range: a {width}-register value cannot start at {address}"),
        ));
    }
    if table.is_bits() && data_type != DataType::Bool {
        return Err(locate.error(
            rp.data_type.span(),
            &key("type"),
            format!("expected `bool`: {table} tables hold single bits"),
        ));
    }
    let bit = match (&rp.bit, data_type, table.is_bits()) {
        (None, DataType::Bool, false) => {
            return Err(locate.error(
                rp.data_type.span(),
                &key("bit"),
                "expected `bit = 0..15`: a bool in a register table is one bit of it",
            ));
        }
        (Some(b), DataType::Bool, false) => match u8::try_from(*b.get_ref()) {
            Ok(v) if v < 16 => Some(v),
            _ => return Err(locate.error(b.span(), &key("bit"), "expected 0..=15")),
        },
        (Some(b), _, _) => {
            return Err(locate.error(
                b.span(),
                &key("bit"),
                "only `bool` points in input/holding tables take `bit`",
            ));
        }
        (None, _, _) => None,
    };
    let alarm_mask = match (&rp.alarm_bits, data_type) {
        (Some(bits), DataType::Bits) => {
            let mut mask = 0u16;
            for b in bits.get_ref() {
                match u32::try_from(*b) {
                    Ok(v) if v < 16 => mask |= 1 << v,
                    _ => {
                        return Err(locate.error(
                            bits.span(),
                            &key("alarm_bits"),
                            "expected bit numbers 0..=15",
                        ));
                    }
                }
            }
            if mask == 0 {
                return Err(locate.error(
                    bits.span(),
                    &key("alarm_bits"),
                    "expected at least one bit",
                ));
            }
            mask
        }
        (None, DataType::Bits) => {
            return Err(locate.error(
                rp.data_type.span(),
                &key("alarm_bits"),
                "expected `alarm_bits = [..]` for a `bits` point",
            ));
        }
        (Some(bits), _) => {
            return Err(locate.error(
                bits.span(),
                &key("alarm_bits"),
                "only `bits` points take `alarm_bits`",
            ));
        }
        (None, _) => 0,
    };
    let order = match &rp.byte_order {
        None => WordOrder::Abcd,
        Some(o) => {
            let order = *o.get_ref();
            let ok = match data_type {
                DataType::U32 | DataType::I32 | DataType::F32 => true,
                DataType::U16 | DataType::I16 | DataType::Bits => !order.swaps_words(),
                DataType::Bool => order == WordOrder::Abcd,
            };
            if !ok {
                return Err(locate.error(
                    o.span(),
                    &key("byte_order"),
                    "expected ABCD or BADC: CDAB/DCBA swap the words of 32-bit values only, \
                     and bool points take no order",
                ));
            }
            order
        }
    };
    let finite = |v: &Option<Spanned<f64>>, k: &str, default: f64| match v {
        None => Ok(default),
        Some(s) if s.get_ref().is_finite() => Ok(*s.get_ref()),
        Some(s) => Err(locate.error(s.span(), &key(k), "expected a finite number")),
    };
    let scale = finite(&rp.scale, "scale", 1.0)?;
    let offset = finite(&rp.offset, "offset", 0.0)?;
    if !data_type.is_numeric() {
        if let Some(s) = rp.scale.as_ref().or(rp.offset.as_ref()) {
            return Err(locate.error(
                s.span(),
                &key("scale"),
                "bool and bits points take no scale or offset",
            ));
        }
    }
    let maps_to = match &rp.maps_to {
        None => None,
        Some(t) => {
            let target = *t.get_ref();
            if target.is_numeric() && !data_type.is_numeric() {
                return Err(locate.error(
                    t.span(),
                    &key("maps_to"),
                    "expected a number: this target needs a u16/i16/u32/i32/f32 point",
                ));
            }
            Some(target)
        }
    };
    let _ = &rp.description;
    Ok(Point {
        name,
        table,
        address,
        data_type,
        order,
        bit,
        alarm_mask,
        scale,
        offset,
        unit: rp.unit.clone(),
        invert: rp.invert,
        maps_to,
    })
}

fn check_overlaps(
    locate: &Locator<'_>,
    raw: &[RawPoint],
    points: &[Point],
) -> Result<(), ProfileError> {
    // (table, register) → (mask claimed so far, first claiming point)
    let mut claimed: HashMap<(Table, u16), (u16, usize)> = HashMap::new();
    for (i, (p, rp)) in points.iter().zip(raw).enumerate() {
        let mask = p.claimed_mask();
        for k in 0..p.width() {
            let reg = p.address.saturating_add(k);
            let entry = claimed.entry((p.table, reg)).or_insert((0, i));
            if entry.0 & mask != 0 {
                let other = points.get(entry.1).map_or("?", |o| o.name.as_str());
                return Err(locate.error(
                    rp.address.span(),
                    &format!("points[{i}].address"),
                    format!(
                        "point `{}` overlaps point `{other}` at {} address {reg}",
                        p.name, p.table
                    ),
                ));
            }
            entry.0 |= mask;
        }
    }
    Ok(())
}

fn check_targets(
    locate: &Locator<'_>,
    raw: &[RawPoint],
    points: &[Point],
) -> Result<(), ProfileError> {
    // Numeric targets may repeat (a multi-channel module); config resolution checks that each
    // device id gets each numeric target at most once after `channels`.
    let mut seen: HashMap<Target, usize> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        if let Some(t) = p.maps_to {
            seen.entry(t).or_insert(i);
        }
    }
    let needs = [
        (Target::Temperature, Target::Humidity),
        (Target::Humidity, Target::Temperature),
        (Target::Co2, Target::Temperature),
        (Target::Co2, Target::Humidity),
        (Target::GasPpm, Target::GasAlarm),
        (Target::BedHeartRate, Target::InBed),
        (Target::BedRespirationRate, Target::InBed),
    ];
    for (have, need) in needs {
        if let (Some(&i), false) = (seen.get(&have), seen.contains_key(&need)) {
            let span = raw
                .get(i)
                .and_then(|r| r.maps_to.as_ref())
                .map_or(0..0, Spanned::span);
            return Err(locate.error(
                span,
                &format!("points[{i}].maps_to"),
                format!(
                    "`{}` also needs a point mapped to `{}` to form a measurement",
                    target_name(have),
                    target_name(need)
                ),
            ));
        }
    }
    Ok(())
}

fn target_name(t: Target) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn validate_command(
    locate: &Locator<'_>,
    name: &str,
    rc: &RawCommand,
) -> Result<Command, ProfileError> {
    let key = |k: &str| format!("commands.{name}.{k}");
    let table = *rc.table.get_ref();
    if !matches!(table, Table::Coil | Table::Holding) {
        return Err(locate.error(
            rc.table.span(),
            &key("table"),
            "expected `coil` or `holding`: only those tables are writable",
        ));
    }
    let address = to_u16(locate, &key("address"), &rc.address, "address")?;
    let (raw_values, span, k) = match (&rc.value, &rc.values) {
        (Some(v), None) => (vec![*v.get_ref()], v.span(), "value"),
        (None, Some(vs)) if !vs.get_ref().is_empty() => (vs.get_ref().clone(), vs.span(), "values"),
        _ => {
            return Err(locate.error(
                rc.address.span(),
                &key("value"),
                "expected exactly one of `value = N` or `values = [N, ..]`",
            ));
        }
    };
    let max = if table == Table::Coil {
        1
    } else {
        i64::from(u16::MAX)
    };
    let mut values = Vec::with_capacity(raw_values.len());
    for v in raw_values {
        match u16::try_from(v) {
            Ok(w) if i64::from(w) <= max => values.push(w),
            _ => {
                return Err(locate.error(
                    span,
                    &key(k),
                    format!("expected values in 0..={max} for a {table} write"),
                ));
            }
        }
    }
    let last = u32::from(address) + u32::try_from(values.len()).unwrap_or(u32::MAX) - 1;
    if last > u32::from(u16::MAX) || values.len() > usize::from(table.max_read()) {
        return Err(locate.error(rc.address.span(), &key("address"), "write runs past 65535"));
    }
    Ok(Command {
        table,
        address,
        values,
        description: rc.description.clone(),
    })
}

fn validate_example(
    locate: &Locator<'_>,
    e: RawExample,
    points: &[Point],
) -> Result<Example, ProfileError> {
    fn keys<V: Copy>(
        locate: &Locator<'_>,
        table: &str,
        m: &BTreeMap<String, V>,
    ) -> Result<BTreeMap<u16, V>, ProfileError> {
        m.iter()
            .map(|(k, v)| {
                k.parse::<u16>().map(|a| (a, *v)).map_err(|_| {
                    locate.error(
                        0..0,
                        &format!("example.{table}.{k}"),
                        "expected an address 0..=65535 as key",
                    )
                })
            })
            .collect()
    }
    let span = e.expect.span();
    let mut expect = BTreeMap::new();
    for (name, v) in e.expect.into_inner() {
        if !points.iter().any(|p| p.name == name) {
            return Err(locate.error(
                span.clone(),
                &format!("example.expect.{name}"),
                "expected the name of a point of this profile",
            ));
        }
        let json = match v {
            toml::Value::Boolean(b) => serde_json::Value::Bool(b),
            toml::Value::Integer(i) => serde_json::Value::from(i),
            toml::Value::Float(f) => serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            _ => {
                return Err(locate.error(
                    span.clone(),
                    &format!("example.expect.{name}"),
                    "expected a number or a boolean",
                ));
            }
        };
        expect.insert(name, json);
    }
    Ok(Example {
        coil: keys(locate, "coil", &e.coil)?,
        discrete: keys(locate, "discrete", &e.discrete)?,
        input: keys(locate, "input", &e.input)?,
        holding: keys(locate, "holding", &e.holding)?,
        expect,
    })
}
