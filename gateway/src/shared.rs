//! [`Shared`]: a value every task reads and a person's change replaces as a whole, at once. The
//! facility (care flags) and the escalation policies are shared this way: the pipeline and the
//! alert engine read the current one for each reading or timer, and a care-record change from
//! the dashboard swaps in a new one without a restart (`care`).
//!
//! A read takes a read lock for as long as it takes to clone an `Arc`; nobody holds the lock
//! while working with the value, so a swap never waits on analytics and vice versa.

use std::sync::{Arc, PoisonError, RwLock};

/// A value replaced as a whole, read as an `Arc` snapshot. Clones share the one value.
#[derive(Debug, Default)]
pub struct Shared<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Shared<T> {
    /// A cell holding `value`.
    pub fn new(value: T) -> Self {
        Self::from(Arc::new(value))
    }

    /// The current value.
    pub fn get(&self) -> Arc<T> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the value for every holder; readers holding the old snapshot keep it until
    /// their next [`Shared::get`].
    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }
}

impl<T> From<Arc<T>> for Shared<T> {
    fn from(value: Arc<T>) -> Self {
        Self(Arc::new(RwLock::new(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_seen_by_every_clone_and_old_snapshots_stay_whole() {
        let a = Shared::new(vec![1]);
        let b = a.clone();
        let old = b.get();
        a.set(vec![2, 3]);
        assert_eq!(*b.get(), vec![2, 3]);
        assert_eq!(*old, vec![1]);
    }
}
