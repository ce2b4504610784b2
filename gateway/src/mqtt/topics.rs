//! Topic names of one site: every topic the gateway publishes or listens to is spelled here, so
//! the scheme of docs/MQTT.md has one source.

use pingan_drivers::DeviceId;

/// What an inbound message is, by its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// `pingan/{site}/cmd/alerts/…`: acknowledge or resolve an alert.
    AlertCommand,
    /// `pingan/{site}/cmd/devices/…`: a device's profile command.
    DeviceCommand,
    /// `pingan/{site}/cmd/users/{user}/…`: an alert or device command whose acting person is
    /// the `{user}` the broker's ACL ties to the MQTT login.
    UserCommand,
    /// Anything else (ignored).
    Other,
}

/// Topic names of one site.
#[derive(Debug, Clone)]
pub struct Topics {
    site: String,
}

impl Topics {
    /// Topics of `site`.
    pub fn new(site: &str) -> Self {
        Self {
            site: site.to_owned(),
        }
    }

    /// The site id.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// `pingan/{site}/status` (retained online/offline).
    pub fn status(&self) -> String {
        format!("pingan/{}/status", self.site)
    }

    /// `pingan/{site}/readings/{device}`.
    pub fn reading(&self, device: &DeviceId) -> String {
        format!("pingan/{}/readings/{}", self.site, device)
    }

    /// `pingan/{site}/telemetry/{driver}`: an uplink's batch of readings of one driver instance.
    pub fn telemetry(&self, driver: &str) -> String {
        format!("pingan/{}/telemetry/{}", self.site, driver)
    }

    /// `pingan/{site}/alerts/{id}`.
    pub fn alert(&self, id: ulid::Ulid) -> String {
        format!("pingan/{}/alerts/{}", self.site, id)
    }

    /// `pingan/{site}/referrals/{contact}/{alert_id}`: green-channel referral packets.
    pub fn referral(&self, contact: &str, id: ulid::Ulid) -> String {
        format!("pingan/{}/referrals/{}/{}", self.site, contact, id)
    }

    /// `pingan/{site}/handover` (retained): the latest shift handover.
    pub fn handover(&self) -> String {
        format!("pingan/{}/handover", self.site)
    }

    /// `pingan/{site}/devices/{device}/health`.
    pub fn health(&self, device: &DeviceId) -> String {
        format!("pingan/{}/devices/{}/health", self.site, device)
    }

    /// The filter for every command: `pingan/{site}/cmd/#` (alerts and devices).
    pub fn commands_filter(&self) -> String {
        format!("pingan/{}/cmd/#", self.site)
    }

    /// The prefix of device command topics: `pingan/{site}/cmd/devices/`.
    pub fn device_commands_prefix(&self) -> String {
        format!("pingan/{}/cmd/devices/", self.site)
    }

    /// Where the result of a device command is published (outside `cmd/`, which the gateway
    /// itself subscribes to).
    pub fn device_command_result(&self, device: &DeviceId, command: &str) -> String {
        format!(
            "pingan/{}/devices/{}/commands/{}",
            self.site, device, command
        )
    }

    /// The prefix of command topics.
    pub fn commands_prefix(&self) -> String {
        format!("pingan/{}/cmd/alerts/", self.site)
    }

    /// `pingan/{site}/cmd/alerts/{id}/{ack|resolve}`: a person's command to an alert.
    pub fn alert_command(&self, id: ulid::Ulid, verb: &str) -> String {
        format!("pingan/{}/cmd/alerts/{id}/{verb}", self.site)
    }

    /// The prefix of user-scoped command topics: `pingan/{site}/cmd/users/`.
    pub fn user_commands_prefix(&self) -> String {
        format!("pingan/{}/cmd/users/", self.site)
    }

    /// `pingan/{site}/cmd/users/{user}/alerts/{id}/{ack|resolve}`: a command whose acting person
    /// is `user` (the Mosquitto deployment's ACL lets only MQTT user `user` publish there).
    pub fn user_alert_command(&self, user: &str, id: ulid::Ulid, verb: &str) -> String {
        format!("pingan/{}/cmd/users/{user}/alerts/{id}/{verb}", self.site)
    }

    /// `pingan/{site}/cmd/users/{user}/devices/{device}/{command}`.
    pub fn user_device_command(&self, user: &str, device: &DeviceId, command: &str) -> String {
        format!(
            "pingan/{}/cmd/users/{user}/devices/{device}/{command}",
            self.site
        )
    }

    /// A filter for everything under `pingan/{site}/{part}` (`part` without slashes:
    /// `alerts`, `readings`, …), for ACLs and subscriptions.
    pub fn subtree(&self, part: &str) -> String {
        format!("pingan/{}/{part}/#", self.site)
    }

    /// `pingan/{site}/notify/{contact}/{alert_id}`: an alert for one contact on its link.
    pub fn notify(&self, contact: &str, id: ulid::Ulid) -> String {
        format!("pingan/{}/notify/{}/{}", self.site, contact, id)
    }

    /// What a message that arrived on a subscribed topic is.
    pub fn inbound(&self, topic: &str) -> Inbound {
        let Some(rest) = topic
            .strip_prefix("pingan/")
            .and_then(|t| t.strip_prefix(self.site.as_str()))
            .and_then(|t| t.strip_prefix("/cmd/"))
        else {
            return Inbound::Other;
        };
        if rest.starts_with("alerts/") {
            Inbound::AlertCommand
        } else if rest.starts_with("devices/") {
            Inbound::DeviceCommand
        } else if rest.starts_with("users/") {
            Inbound::UserCommand
        } else {
            Inbound::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_topics_are_told_apart_by_site_and_kind() {
        let t = Topics::new("home");
        let id = ulid::Ulid::from_parts(1, 2);
        assert_eq!(
            t.inbound(&t.alert_command(id, "ack")),
            Inbound::AlertCommand
        );
        assert_eq!(
            t.inbound("pingan/home/cmd/devices/smoke-1/silence"),
            Inbound::DeviceCommand
        );
        assert_eq!(
            t.inbound(&t.user_alert_command("li.na", id, "ack")),
            Inbound::UserCommand
        );
        assert_eq!(t.inbound("pingan/other/cmd/alerts/x/ack"), Inbound::Other);
        assert_eq!(t.inbound("pingan/homes/cmd/alerts/x/ack"), Inbound::Other);
        assert_eq!(t.inbound(&t.alert(id)), Inbound::Other);
        assert_eq!(
            t.notify("nurse", id),
            format!("pingan/home/notify/nurse/{id}")
        );
        assert_eq!(t.inbound(&t.handover()), Inbound::Other);
    }
}
