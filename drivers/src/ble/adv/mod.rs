//! Advertisement decoding: the AD structures of a Bluetooth LE advertisement (Core Specification
//! Vol 3 Part C §11, Supplement to the Core Specification Part A) and the beacon frames the
//! gateway understands in them: iBeacon, Eddystone and BTHome v2.
//!
//! The btleplug radio hands over the already-split manufacturer and service data, the replay file
//! and `pingan decode adv` the raw AD bytes; both meet in [`AdvData`].

pub mod bthome;
pub mod eddystone;
pub mod ibeacon;

use serde::{Serialize, Serializer};

use super::error::DecodeError;
use super::gatt::{format_uuid, uuid16};
use super::reader::Reader;

const WHAT: &str = "advertisement";

/// Service data of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceData {
    /// The service's UUID.
    #[serde(serialize_with = "ser_uuid")]
    pub uuid: u128,
    /// Its data.
    #[serde(serialize_with = "ser_hex")]
    pub data: Vec<u8>,
}

/// Manufacturer-specific data of one company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManufacturerData {
    /// The Bluetooth SIG company identifier.
    pub company_id: u16,
    /// Data after the company identifier.
    #[serde(serialize_with = "ser_hex")]
    pub data: Vec<u8>,
}

/// The parts of an advertisement the gateway reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdvData {
    /// The Flags AD value.
    pub flags: Option<u8>,
    /// Complete or shortened local name.
    pub local_name: Option<String>,
    /// Advertised TX power.
    pub tx_power_dbm: Option<i8>,
    /// Advertised service UUIDs.
    #[serde(serialize_with = "ser_uuids")]
    pub service_uuids: Vec<u128>,
    /// Service data by service.
    pub service_data: Vec<ServiceData>,
    /// Manufacturer data by company.
    pub manufacturer_data: Vec<ManufacturerData>,
}

/// A decoded advertisement: its AD structures and the beacon frames found in them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advertisement {
    /// The AD structures.
    #[serde(flatten)]
    pub data: AdvData,
    /// An iBeacon frame, if any.
    pub ibeacon: Option<ibeacon::IBeacon>,
    /// An Eddystone frame, if any.
    pub eddystone: Option<eddystone::Eddystone>,
    /// A BTHome v2 frame, if any.
    pub bthome: Option<bthome::BtHome>,
}

impl AdvData {
    /// Splits raw advertising data (a sequence of `length, type, data` structures) into its parts.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        let mut r = Reader::new(WHAT, bytes);
        while r.remaining() > 0 {
            let len = usize::from(r.u8()?);
            if len == 0 {
                // A zero length ends the significant part; the rest is padding.
                break;
            }
            let ad = r.take(len)?;
            let (&ty, body) = ad.split_first().ok_or(DecodeError::Truncated {
                what: WHAT,
                len: bytes.len(),
                flags: None,
                need: 1,
            })?;
            out.add(ty, body)?;
        }
        Ok(out)
    }

    fn add(&mut self, ty: u8, body: &[u8]) -> Result<(), DecodeError> {
        let mut r = Reader::new(WHAT, body);
        match ty {
            0x01 => self.flags = Some(r.u8()?),
            0x02 | 0x03 => {
                while r.remaining() > 0 {
                    self.service_uuids.push(uuid16(r.u16()?));
                }
            }
            0x06 | 0x07 => {
                while r.remaining() > 0 {
                    self.service_uuids.push(u128_le(r.take(16)?));
                }
            }
            0x08 | 0x09 => self.local_name = Some(String::from_utf8_lossy(body).into_owned()),
            0x0A => self.tx_power_dbm = Some(r.i8()?),
            0x16 => {
                let uuid = uuid16(r.u16()?);
                self.service_data.push(ServiceData {
                    uuid,
                    data: r.take(r.remaining())?.to_vec(),
                });
            }
            0x21 => {
                let uuid = u128_le(r.take(16)?);
                self.service_data.push(ServiceData {
                    uuid,
                    data: r.take(r.remaining())?.to_vec(),
                });
            }
            0xFF => {
                let company_id = r.u16()?;
                self.manufacturer_data.push(ManufacturerData {
                    company_id,
                    data: r.take(r.remaining())?.to_vec(),
                });
            }
            // Other AD types carry nothing the gateway uses.
            _ => {}
        }
        Ok(())
    }

    /// The service data of `uuid`, if advertised.
    pub fn service(&self, uuid: u128) -> Option<&[u8]> {
        self.service_data
            .iter()
            .find(|s| s.uuid == uuid)
            .map(|s| s.data.as_slice())
    }

    /// The manufacturer data of `company_id`, if advertised.
    pub fn manufacturer(&self, company_id: u16) -> Option<&[u8]> {
        self.manufacturer_data
            .iter()
            .find(|m| m.company_id == company_id)
            .map(|m| m.data.as_slice())
    }

    /// Decodes the beacon frames in this advertisement. A recognised frame that is malformed is
    /// an error; an advertisement without any recognised frame is not.
    pub fn decode(self) -> Result<Advertisement, DecodeError> {
        let ibeacon = match self.manufacturer(ibeacon::APPLE) {
            Some(d) => ibeacon::decode(d)?,
            None => None,
        };
        let eddystone = self
            .service(uuid16(eddystone::SERVICE))
            .map(eddystone::decode)
            .transpose()?;
        let bthome = self
            .service(uuid16(bthome::SERVICE))
            .map(bthome::decode)
            .transpose()?;
        Ok(Advertisement {
            data: self,
            ibeacon,
            eddystone,
            bthome,
        })
    }
}

/// Decodes raw advertising data.
pub fn decode(bytes: &[u8]) -> Result<Advertisement, DecodeError> {
    AdvData::parse(bytes)?.decode()
}

/// A 128-bit UUID as it appears over the air (least significant byte first).
fn u128_le(b: &[u8]) -> u128 {
    let mut a = [0u8; 16];
    for (dst, src) in a.iter_mut().zip(b) {
        *dst = *src;
    }
    u128::from_le_bytes(a)
}

/// Lower-case hex without separators.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Parses hex without separators (either case; empty is an empty payload).
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.len() % 2 != 0 {
        return Err(format!("invalid hex: odd number of digits ({})", t.len()));
    }
    t.as_bytes()
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("invalid hex: non-hex digit at position {}", i * 2))
        })
        .collect()
}

fn ser_hex<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(b))
}

fn ser_uuid<S: Serializer>(u: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_uuid(*u))
}

fn ser_uuids<S: Serializer>(u: &[u128], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(u.iter().map(|u| format_uuid(*u)))
}
