//! How a set of response times spreads: median, 90th percentile and maximum, by the
//! nearest-rank method (every figure is a time that really occurred, never an interpolation).

use serde::{Deserialize, Serialize};

/// Median, 90th percentile and maximum of some durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// 50th percentile (nearest rank: with an even count, the lower of the middle two).
    pub median_ms: i64,
    /// 90th percentile (nearest rank).
    pub p90_ms: i64,
    /// The longest.
    pub max_ms: i64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[i64]) -> Option<Self> {
        let mut v = values.to_vec();
        v.sort_unstable();
        Some(Self {
            median_ms: nearest_rank(&v, 50)?,
            p90_ms: nearest_rank(&v, 90)?,
            max_ms: *v.last()?,
        })
    }
}

/// The `p`-th percentile of sorted `v`: the value at rank ⌈p·n/100⌉ (1-based).
fn nearest_rank(v: &[i64], p: usize) -> Option<i64> {
    let rank = (p * v.len()).div_ceil(100).max(1);
    v.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_rank_picks_values_that_occurred() {
        assert_eq!(Spread::of(&[]), None);
        let one = Spread::of(&[7]).unwrap();
        assert_eq!((one.median_ms, one.p90_ms, one.max_ms), (7, 7, 7));
        let four = Spread::of(&[40, 10, 30, 20]).unwrap();
        assert_eq!((four.median_ms, four.p90_ms, four.max_ms), (20, 40, 40));
        let ten: Vec<i64> = (1..=10).collect();
        let s = Spread::of(&ten).unwrap();
        assert_eq!((s.median_ms, s.p90_ms, s.max_ms), (5, 9, 10));
    }

    proptest! {
        #[test]
        fn median_is_at_most_p90_at_most_max(v in proptest::collection::vec(0i64..1_000_000, 1..200)) {
            let s = Spread::of(&v).unwrap();
            prop_assert!(s.median_ms <= s.p90_ms && s.p90_ms <= s.max_ms);
            prop_assert!(v.contains(&s.median_ms) && v.contains(&s.p90_ms));
            prop_assert_eq!(s.max_ms, *v.iter().max().unwrap());
        }
    }
}
