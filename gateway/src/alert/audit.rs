//! The audit trail's vocabulary: what happened to an alert, who did it and through what; and
//! [`ActionRecord`]s, people's acts on things other than alerts: device commands, care-record
//! changes and staff-account changes.

use pingan_drivers::{DeviceId, Timestamp};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::actor::Role;
use super::types::Alert;
use crate::config::{CareFlag, EscalationPolicy};

/// What happened to an alert. Stored and published as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// First observation.
    Raised,
    /// A repeat raised its priority, re-opened a cleared condition or added the green channel.
    Updated,
    /// A link meant for people confirmed receipt.
    Delivered,
    /// Not acknowledged in time: moved to the next escalation level.
    Escalated,
    /// A person acknowledged it.
    Acknowledged,
    /// The condition cleared while the alert stays latched until acknowledged.
    ConditionCleared,
    /// A person resolved it.
    Resolved,
    /// The resident cancelled it within the cancel window.
    Cancelled,
    /// The condition cleared and stayed clear (debounced), so it resolved by itself.
    Cleared,
}

impl AuditAction {
    /// The snake_case name used in JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Updated => "updated",
            Self::Delivered => "delivered",
            Self::Escalated => "escalated",
            Self::Acknowledged => "acknowledged",
            Self::ConditionCleared => "condition_cleared",
            Self::Resolved => "resolved",
            Self::Cancelled => "cancelled",
            Self::Cleared => "cleared",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Through what a change came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The gateway itself (analytics, timers, broker receipts).
    System,
    /// The resident's cancel button.
    Resident,
    /// An MQTT `cmd` topic.
    Mqtt,
    /// The dashboard or REST API.
    Http,
    /// The `pingan alerts` command line.
    Cli,
}

/// One line of an alert's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The alert.
    pub alert: Ulid,
    /// The revision this change produced.
    pub revision: u32,
    /// When.
    pub at: Timestamp,
    /// What happened.
    pub action: AuditAction,
    /// Who (a person's name for acknowledgements and resolutions; `name (account)` when a
    /// person typed their name on a shared account).
    pub by: Option<String>,
    /// The authenticated identity behind `by`: a dashboard account, or the MQTT user name of an
    /// ACL-enforced command topic. Absent where nothing authenticates the sender (the loopback
    /// broker, the command line on the box) and for the system's own changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Through what.
    pub via: Via,
    /// Free text: the person's note, or the system's reason.
    pub note: Option<String>,
}

/// An alert's latest revision with its whole audit trail (oldest entry first): what reports are
/// computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTrail {
    /// The alert's latest revision.
    pub alert: Alert,
    /// Every change, in the order it was made (store order: revision, then sequence).
    pub audit: Vec<AuditEntry>,
}

/// What a person's act that is not about an alert was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum ActionSubject {
    /// A device.
    Device(DeviceId),
    /// A resident's care record (by pseudonymous id).
    Resident(String),
    /// The site's escalation policies.
    Escalation,
    /// A staff account (by user name).
    Account(String),
}

/// What a person did. A closed list: a new kind of act is a new variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Act {
    /// Ran a device's profile command (docs/MODBUS.md).
    DeviceCommand {
        /// The profile command's name (`silence`, `reset`).
        command: String,
    },
    /// Changed a resident's care flags (`reset`: back to the site file's).
    CareFlags {
        /// The flags in force before.
        before: Vec<CareFlag>,
        /// The flags in force after.
        after: Vec<CareFlag>,
        /// The stored change was removed, so the site file's flags apply again.
        #[serde(default)]
        reset: bool,
    },
    /// Changed the escalation policies (`reset`: back to the site file's).
    Escalation {
        /// The policies in force before.
        before: Vec<EscalationPolicy>,
        /// The policies in force after.
        after: Vec<EscalationPolicy>,
        /// The stored change was removed, so the site file's policies apply again.
        #[serde(default)]
        reset: bool,
    },
    /// Added a staff account.
    AccountAdded {
        /// Its role.
        role: Role,
    },
    /// Disabled an account (its sessions ended at once).
    AccountDisabled,
    /// Enabled a disabled account again.
    AccountEnabled,
    /// Set a new password (the account's sessions ended).
    PasswordReset,
    /// Changed an account's role.
    RoleChanged {
        /// The role before.
        before: Role,
        /// The role after.
        after: Role,
    },
}

/// One person's act on something other than an alert, with its outcome: the audit of device
/// commands, care-record and account changes (tree `actions`, docs/STORAGE.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// When the act finished (the gateway's clock).
    pub at: Timestamp,
    /// Who: the logged-in account, or `name (account)` on a shared station PC; on MQTT the
    /// `by` of the command.
    pub by: String,
    /// The authenticated identity behind `by` (see [`AuditEntry::account`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Through what.
    pub via: Via,
    /// What it was about.
    pub subject: ActionSubject,
    /// What was done.
    #[serde(flatten)]
    pub act: Act,
    /// The person's note.
    #[serde(default)]
    pub note: Option<String>,
    /// Whether it worked.
    pub ok: bool,
    /// Why not.
    #[serde(default)]
    pub error: Option<String>,
}
