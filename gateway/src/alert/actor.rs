//! Who acts on an alert: the authenticated identity (a dashboard account, the MQTT user name of
//! an ACL-enforced command topic) and, beside it, the name a person typed on a shared account.
//! The audit trail keeps both; a typed name is never recorded instead of the account.
//!
//! Every name that reaches the audit trail passes [`check_person`]: 1 to [`MAX_PERSON`]
//! characters, no control characters and no invisible formatting characters (bidirectional
//! overrides could make `Li (station1)` read as another account in a log or on a screen).

use serde::{Deserialize, Serialize};

/// Longest person or account name, characters.
pub const MAX_PERSON: usize = 64;

/// A name that cannot be recorded as who acted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    /// Empty or only spaces.
    #[error("the name of the person is empty")]
    Empty,
    /// Longer than [`MAX_PERSON`] characters.
    #[error("the name has more than {MAX_PERSON} characters")]
    TooLong,
    /// A control or invisible formatting character (given as its code point).
    #[error("the name contains the control or formatting character U+{0:04X}")]
    Forbidden(u32),
}

/// Checks a person's or account's name and returns it trimmed.
pub fn check_person(name: &str) -> Result<&str, PersonError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PersonError::Empty);
    }
    if name.chars().count() > MAX_PERSON {
        return Err(PersonError::TooLong);
    }
    match name
        .chars()
        .find(|&c| c.is_control() || is_invisible_format(c))
    {
        Some(c) => Err(PersonError::Forbidden(u32::from(c))),
        None => Ok(name),
    }
}

/// Unicode format characters (category Cf) that change how surrounding text is shown or hide
/// themselves: bidirectional marks, embeddings, overrides and isolates, zero-width characters,
/// invisible operators, the byte-order mark, interlinear annotations, the soft hyphen.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// What a staff account may do on the dashboard. Stored and sent as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Alerts, floor, devices, reports, handovers.
    Nurse,
    /// Also care records and staff accounts.
    Admin,
}

impl Role {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nurse => "nurse",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "nurse" => Ok(Self::Nurse),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown role {other:?}: expected nurse or admin")),
        }
    }
}

/// Who acts on an alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The authenticated identity, where something authenticated the sender: a dashboard
    /// account, or the user name of an MQTT command topic the broker's ACL ties to the
    /// logged-in MQTT user. `None` on the loopback broker and the command line on the box.
    pub account: Option<String>,
    /// The person's own name, as typed (a shared station account) or sent in `by`.
    pub name: Option<String>,
}

impl Actor {
    /// An authenticated account acting as itself.
    pub fn account(account: impl Into<String>) -> Self {
        Self {
            account: Some(account.into()),
            name: None,
        }
    }

    /// A person named by the sender, with no authenticated identity (loopback broker, CLI).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            account: None,
            name: Some(name.into()),
        }
    }

    /// An authenticated account with the typed name of the person at it (empty: none).
    pub fn account_with_name(account: impl Into<String>, name: Option<String>) -> Self {
        let account = account.into();
        let name = name.filter(|n| !n.trim().is_empty() && n.trim() != account);
        Self {
            account: Some(account),
            name,
        }
    }

    /// Both names checked with [`check_person`] and trimmed; at least one must be there.
    pub fn checked(&self) -> Result<Self, PersonError> {
        let check = |n: &Option<String>| {
            n.as_deref()
                .map(|s| check_person(s).map(str::to_owned))
                .transpose()
        };
        let out = Self {
            account: check(&self.account)?,
            name: check(&self.name)?,
        };
        if out.account.is_none() && out.name.is_none() {
            return Err(PersonError::Empty);
        }
        Ok(out)
    }

    /// How the alert shows who acted (`acknowledged_by`, the audit's `by`): `name (account)` on
    /// a shared account, else whichever is known.
    pub fn display(&self) -> String {
        match (&self.name, &self.account) {
            (Some(n), Some(a)) if n != a => format!("{n} ({a})"),
            (_, Some(a)) => a.clone(),
            (Some(n), None) => n.clone(),
            (None, None) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_names_pass_trimmed() {
        assert_eq!(
            check_person("  护士 李娜 Nurse Li "),
            Ok("护士 李娜 Nurse Li")
        );
        assert_eq!(check_person("li.na"), Ok("li.na"));
    }

    #[test]
    fn empty_long_control_and_bidi_names_are_refused() {
        assert_eq!(check_person(" \t "), Err(PersonError::Empty));
        assert_eq!(check_person(&"x".repeat(65)), Err(PersonError::TooLong));
        assert!(check_person(&"李".repeat(64)).is_ok());
        assert_eq!(check_person("\u{0}"), Err(PersonError::Forbidden(0)));
        assert_eq!(check_person("Li\nLi"), Err(PersonError::Forbidden(10)));
        assert_eq!(
            check_person("Li\u{202E}nahc"),
            Err(PersonError::Forbidden(0x202E))
        );
        assert_eq!(
            check_person("a\u{2067}b"),
            Err(PersonError::Forbidden(0x2067))
        );
        assert_eq!(
            check_person("a\u{200B}b"),
            Err(PersonError::Forbidden(0x200B))
        );
        assert_eq!(
            check_person("\u{FEFF}a"),
            Err(PersonError::Forbidden(0xFEFF))
        );
    }

    #[test]
    fn a_typed_name_is_shown_beside_the_account_never_instead() {
        let a = Actor::account_with_name("station1", Some("王芳".into()));
        assert_eq!(a.display(), "王芳 (station1)");
        assert_eq!(a.account.as_deref(), Some("station1"));
        assert_eq!(
            Actor::account_with_name("li", Some("li".into())).display(),
            "li"
        );
        assert_eq!(Actor::account_with_name("li", Some(" ".into())).name, None);
        assert_eq!(Actor::named("Nurse Li").display(), "Nurse Li");
        assert_eq!(Actor::default().checked(), Err(PersonError::Empty));
        assert_eq!(
            Actor::account_with_name("li", Some("x\u{202E}".into())).checked(),
            Err(PersonError::Forbidden(0x202E))
        );
    }

    proptest! {
        #[test]
        fn checked_names_have_no_control_or_format_characters(s in "\\PC{0,80}|.{0,80}") {
            if let Ok(n) = check_person(&s) {
                prop_assert!(!n.is_empty() && n.chars().count() <= MAX_PERSON);
                prop_assert!(!n.chars().any(|c| c.is_control() || is_invisible_format(c)));
            }
        }
    }
}
