//! Read planning: neighbouring points of a table merge into one request, within the protocol's
//! limits (125 registers, 2000 bits) and the profile's `max_gap`. Pure.

use super::decode::{DecodeError, Value, decode_bit, decode_registers};
use super::profile::{Point, Profile, Table};

/// One read request and the points it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The table read.
    pub table: Table,
    /// First address read (0-based).
    pub start: u16,
    /// Number of registers or bits read.
    pub count: u16,
    /// Indexes into [`Profile::points`] of the points this block serves.
    pub points: Vec<usize>,
}

/// What a block read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockData {
    /// Registers, for input/holding blocks.
    Words(Vec<u16>),
    /// Bits, for coil/discrete blocks.
    Bits(Vec<bool>),
}

/// Decoded values, aligned with [`Profile::points`]; `None` where the read failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointValues(pub Vec<Option<Value>>);

impl PointValues {
    /// No values yet for a profile of `n` points.
    pub fn empty(n: usize) -> Self {
        Self(vec![None; n])
    }

    /// The value of point `i`.
    pub fn get(&self, i: usize) -> Option<Value> {
        self.0.get(i).copied().flatten()
    }

    /// A JSON object keyed by point name, with the values read.
    pub fn to_json(&self, profile: &Profile) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = profile
            .points
            .iter()
            .zip(&self.0)
            .filter_map(|(p, v)| {
                let v = (*v)?;
                let json = match v {
                    Value::Bool(b) => serde_json::Value::Bool(b),
                    Value::Number(n) => serde_json::Number::from_f64(round(n))
                        .map_or(serde_json::Value::Null, serde_json::Value::Number),
                };
                Some((p.name.clone(), json))
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

/// Rounds away binary noise from scaling (`0.1 × 215` → 21.5, not 21.500000000000004).
fn round(n: f64) -> f64 {
    if n.abs() >= 1e12 {
        return n;
    }
    (n * 1e6).round() / 1e6
}

/// Plans the reads of a profile: one block per run of neighbouring points.
///
/// Points are grouped by table and sorted by address; a point joins the current block when the
/// unused space before it is at most `max_gap` and the block stays within the table's limit.
pub fn plan(points: &[Point], max_gap: u16) -> Vec<Block> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| points.get(i).map(|p| (p.table, p.address)));
    let mut blocks: Vec<Block> = Vec::new();
    for i in order {
        let Some(p) = points.get(i) else { continue };
        let end = u32::from(p.address) + u32::from(p.width()); // exclusive
        if let Some(b) = blocks.last_mut().filter(|b| b.table == p.table) {
            let b_end = u32::from(b.start) + u32::from(b.count);
            let gap = u32::from(p.address).saturating_sub(b_end);
            let new_end = end.max(b_end);
            if gap <= u32::from(max_gap)
                && new_end - u32::from(b.start) <= u32::from(p.table.max_read())
            {
                b.count = u16::try_from(new_end - u32::from(b.start)).unwrap_or(b.count);
                b.points.push(i);
                continue;
            }
        }
        blocks.push(Block {
            table: p.table,
            start: p.address,
            count: p.width(),
            points: vec![i],
        });
    }
    blocks
}

/// Decodes a block's response into `values`. A response too short for a point is an error
/// for that point; the points before it keep their values.
pub fn decode_block(
    points: &[Point],
    block: &Block,
    data: &BlockData,
    values: &mut PointValues,
) -> Result<(), DecodeError> {
    for &i in &block.points {
        let Some(p) = points.get(i) else { continue };
        let rel = usize::from(p.address.saturating_sub(block.start));
        let v = match data {
            BlockData::Words(words) => decode_registers(p, words.get(rel..).unwrap_or(&[]))?,
            BlockData::Bits(bits) => match bits.get(rel) {
                Some(b) => decode_bit(p, *b),
                None => {
                    return Err(DecodeError {
                        point: p.name.clone(),
                        needed: rel + 1,
                        got: bits.len(),
                    });
                }
            },
        };
        if let Some(slot) = values.0.get_mut(i) {
            *slot = Some(v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::modbus::profile::{DataType, WordOrder};

    fn pt(table: Table, address: u16, data_type: DataType) -> Point {
        Point {
            name: format!("{table}_{address}"),
            table,
            address,
            data_type,
            order: WordOrder::Abcd,
            bit: (data_type == DataType::Bool && !table.is_bits()).then_some(0),
            alarm_mask: 1,
            scale: 1.0,
            offset: 0.0,
            unit: None,
            invert: false,
            maps_to: None,
        }
    }

    fn spans(blocks: &[Block]) -> Vec<(Table, u16, u16)> {
        blocks.iter().map(|b| (b.table, b.start, b.count)).collect()
    }

    #[test]
    fn neighbours_merge_and_gaps_split() {
        let points = vec![
            pt(Table::Holding, 0, DataType::U16),
            pt(Table::Holding, 1, DataType::F32),
            pt(Table::Holding, 10, DataType::U16), // gap of 7 after 0..3
            pt(Table::Holding, 30, DataType::U16), // gap of 19
            pt(Table::Input, 0, DataType::U16),
            pt(Table::Coil, 5, DataType::Bool),
        ];
        let blocks = plan(&points, 8);
        assert_eq!(
            spans(&blocks),
            vec![
                (Table::Coil, 5, 1),
                (Table::Input, 0, 1),
                (Table::Holding, 0, 11),
                (Table::Holding, 30, 1)
            ]
        );
        assert_eq!(plan(&points, 0).len(), 5);
    }

    #[test]
    fn bit_points_sharing_a_register_share_a_read() {
        let mut a = pt(Table::Input, 4, DataType::Bool);
        a.bit = Some(0);
        let mut b = pt(Table::Input, 4, DataType::Bool);
        b.bit = Some(7);
        let blocks = plan(&[a, b], 0);
        assert_eq!(spans(&blocks), vec![(Table::Input, 4, 1)]);
        assert_eq!(blocks[0].points, vec![0, 1]);
    }

    #[test]
    fn register_blocks_respect_the_125_register_limit() {
        let points: Vec<Point> = (0..300)
            .map(|a| pt(Table::Holding, a, DataType::U16))
            .collect();
        let blocks = plan(&points, 0);
        assert_eq!(
            spans(&blocks),
            vec![
                (Table::Holding, 0, 125),
                (Table::Holding, 125, 125),
                (Table::Holding, 250, 50)
            ]
        );
    }

    #[test]
    fn coil_blocks_respect_the_2000_bit_limit() {
        let points: Vec<Point> = (0..2500)
            .map(|a| pt(Table::Coil, a, DataType::Bool))
            .collect();
        assert_eq!(
            spans(&plan(&points, 0)),
            vec![(Table::Coil, 0, 2000), (Table::Coil, 2000, 500)]
        );
    }

    #[test]
    fn short_block_response_is_a_decode_error() {
        let points = vec![
            pt(Table::Holding, 0, DataType::U16),
            pt(Table::Holding, 1, DataType::U32),
        ];
        let blocks = plan(&points, 0);
        let mut values = PointValues::empty(2);
        let r = decode_block(
            &points,
            &blocks[0],
            &BlockData::Words(vec![7, 1]),
            &mut values,
        );
        assert!(r.is_err());
        assert_eq!(values.get(0), Some(Value::Number(7.0)));
        assert_eq!(values.get(1), None);
    }

    #[test]
    fn values_print_as_json_keyed_by_point_name() {
        let profile = Profile {
            name: "t".into(),
            description: None,
            poll_interval: std::time::Duration::from_secs(1),
            max_gap: 0,
            points: vec![
                pt(Table::Holding, 0, DataType::U16),
                pt(Table::Coil, 0, DataType::Bool),
            ],
            commands: Default::default(),
            example: None,
        };
        let values = PointValues(vec![
            Some(Value::Number(215.0 * 0.1)),
            Some(Value::Bool(true)),
        ]);
        assert_eq!(
            values.to_json(&profile),
            serde_json::json!({"holding_0": 21.5, "coil_0": true})
        );
    }

    proptest! {
        #[test]
        fn plans_cover_every_point_within_limits(
            addrs in prop::collection::vec((0u16..400, 0usize..4, any::<bool>()), 1..60),
            max_gap in 0u16..20,
        ) {
            let points: Vec<Point> = addrs.iter().map(|&(a, t, wide)| {
                let table = [Table::Coil, Table::Discrete, Table::Input, Table::Holding][t];
                let ty = if table.is_bits() { DataType::Bool } else if wide { DataType::U32 } else { DataType::U16 };
                pt(table, a, ty)
            }).collect();
            let blocks = plan(&points, max_gap);
            let mut seen = vec![0; points.len()];
            for b in &blocks {
                prop_assert!(b.count >= 1 && b.count <= b.table.max_read());
                for &i in &b.points {
                    seen[i] += 1;
                    let p = &points[i];
                    prop_assert_eq!(p.table, b.table);
                    prop_assert!(p.address >= b.start);
                    prop_assert!(u32::from(p.address) + u32::from(p.width())
                        <= u32::from(b.start) + u32::from(b.count));
                }
            }
            prop_assert!(seen.iter().all(|&n| n == 1));
        }
    }
}
