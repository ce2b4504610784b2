//! Alert ids as text: ULIDs in their 26-character Crockford base32 form.
//!
//! The `ulid` crate's decoder shifts 26 × 5 = 130 bits into a `u128` and silently drops the top
//! two: `8ZZZ…` decodes to the same id as `0ZZZ…`, so one alert would answer to several names
//! (and a log or audit line would show a name the gateway never issued). Only text that is the
//! canonical spelling of its id (case aside) is accepted here, which rejects every string outside
//! the ULID range.

use ulid::Ulid;

/// Text that is not an alert id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an alert id (a 26-character ULID, first character 0-7)")]
pub struct AlertIdError(pub String);

/// Parses an alert id; refuses anything but the canonical spelling of a ULID (upper or lower
/// case), so no two strings name the same alert.
pub fn parse_alert_id(s: &str) -> Result<Ulid, AlertIdError> {
    let err = || AlertIdError(s.chars().take(40).collect());
    let id = Ulid::from_string(s).map_err(|_| err())?;
    if id.to_string().eq_ignore_ascii_case(s) {
        Ok(id)
    } else {
        Err(err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_ids_parse_in_either_case() {
        let id = Ulid::from_parts(1_700_000_000_000, 42);
        let s = id.to_string();
        assert_eq!(parse_alert_id(&s), Ok(id));
        assert_eq!(parse_alert_id(&s.to_lowercase()), Ok(id));
        assert_eq!(
            parse_alert_id("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"),
            Ok(Ulid(u128::MAX))
        );
    }

    #[test]
    fn ids_beyond_the_ulid_range_are_refused_instead_of_aliased() {
        let real = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
        // The crate's own decoder aliases these (the test documents why the check exists).
        let alias = "81ARZ3NDEKTSV4RRFFQ69G5FAV";
        assert_eq!(
            Ulid::from_string(alias).ok(),
            Ulid::from_string(real).ok(),
            "ulid's decoder no longer aliases; the check is still harmless"
        );
        assert!(parse_alert_id(real).is_ok());
        for s in [
            alias,
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ] {
            assert_eq!(parse_alert_id(s), Err(AlertIdError(s.to_owned())), "{s}");
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        for s in [
            "",
            "x",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
            "01ARZ3NDEKTSV4RRFFQ69G5FA!",
            "../etc",
        ] {
            assert!(parse_alert_id(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn every_accepted_string_is_the_spelling_of_its_id(s in "[0-9A-Za-z]{26}") {
            if let Ok(id) = parse_alert_id(&s) {
                prop_assert!(id.to_string().eq_ignore_ascii_case(&s));
            }
        }

        #[test]
        fn every_id_round_trips(n in any::<u128>()) {
            let id = Ulid(n);
            prop_assert_eq!(parse_alert_id(&id.to_string()), Ok(id));
        }
    }
}
