//! Rate limits for people's device commands: token buckets per device and per sender, pure (the
//! time is passed in). A guard silences a sounder or resets a detector a few times an hour; a
//! flood of commands must not keep a Modbus bus busy, fill the results outbox or delay an alert.

use std::time::Duration;

use tokio::time::Instant;

use crate::rate_limit::RateLimit;

/// Commands one device takes in a burst.
pub(super) const DEVICE_BURST: u32 = 3;
/// After the burst, one command per device per this.
pub(super) const DEVICE_REFILL: Duration = Duration::from_secs(5);
/// Commands one sender (link + person) may send in a burst.
pub(super) const SENDER_BURST: u32 = 10;
/// After the burst, one command per sender per this.
pub(super) const SENDER_REFILL: Duration = Duration::from_secs(2);
/// Keys tracked per kind at most, so a flood of made-up device ids or names cannot grow memory.
const MAX_KEYS: usize = 1024;

/// Why a command was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limited {
    /// This sender sent too many commands.
    Sender,
    /// This device was sent too many commands.
    Device,
}

/// The limits of the device-command task.
#[derive(Debug)]
pub(super) struct DeviceLimit {
    devices: RateLimit,
    senders: RateLimit,
}

impl Default for DeviceLimit {
    fn default() -> Self {
        Self {
            devices: RateLimit::new(DEVICE_BURST, DEVICE_REFILL, MAX_KEYS),
            senders: RateLimit::new(SENDER_BURST, SENDER_REFILL, MAX_KEYS),
        }
    }
}

impl DeviceLimit {
    /// Whether `sender` may send a command to `device` at `now` (and counts it).
    pub(super) fn check(
        &mut self,
        sender: &str,
        device: &str,
        now: Instant,
    ) -> Result<(), Limited> {
        if !self.senders.take(sender, now) {
            return Err(Limited::Sender);
        }
        if !self.devices.take(device, now) {
            return Err(Limited::Device);
        }
        Ok(())
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.devices.tracked() + self.senders.tracked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_takes_a_burst_then_one_command_per_refill() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..DEVICE_BURST {
            assert_eq!(l.check(&format!("s{i}"), "smoke-1", t0), Ok(()));
        }
        assert_eq!(l.check("other", "smoke-1", t0), Err(Limited::Device));
        assert_eq!(
            l.check("other", "smoke-2", t0),
            Ok(()),
            "other devices are not affected"
        );
        assert_eq!(l.check("other", "smoke-1", t0 + DEVICE_REFILL), Ok(()));
        assert_eq!(
            l.check("other", "smoke-1", t0 + DEVICE_REFILL),
            Err(Limited::Device)
        );
    }

    #[test]
    fn a_sender_takes_a_burst_across_devices_then_is_refused() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..SENDER_BURST {
            assert_eq!(l.check("local/mallory", &format!("d{i}"), t0), Ok(()));
        }
        assert_eq!(l.check("local/mallory", "d-new", t0), Err(Limited::Sender));
        assert_eq!(l.check("local/guard", "d-new", t0), Ok(()));
        assert_eq!(l.check("local/mallory", "d-x", t0 + SENDER_REFILL), Ok(()));
    }

    #[test]
    fn made_up_keys_do_not_grow_memory_without_bound() {
        let t0 = Instant::now();
        let mut l = DeviceLimit::default();
        for i in 0..(3 * MAX_KEYS) {
            let _ = l.check(&format!("s{i}"), &format!("d{i}"), t0);
        }
        assert!(l.tracked() <= 2 * MAX_KEYS);
    }
}
