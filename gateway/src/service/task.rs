//! The parts of a running gateway as named tasks, and how each is stopped: by its cancellation
//! token, or by its inputs closing once every part that feeds it has stopped. The order is
//! declared once, in [`super::SHUTDOWN`].

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A part of the running gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Part {
    /// Driver instances (supervised, restarted with backoff).
    Drivers,
    /// Readings in: normalize, analytics, fan-out to store, telemetry, fall detection.
    Pipeline,
    /// Fall detection's inference thread.
    Fall,
    /// Retention sweep and storage budgets.
    Housekeeping,
    /// Shift handovers (timer and on demand).
    Handover,
    /// The alert engine and its effects.
    Alerts,
    /// The readings writer thread.
    Writer,
    /// The dashboard and REST API.
    Http,
    /// MQTT links (the local broker and uplinks).
    Links,
    /// Messages from the links, routed to alerts and device commands.
    Inbound,
    /// People's commands to devices.
    Devices,
}

enum Handle {
    Task(JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

struct Running {
    stop: Option<CancellationToken>,
    handles: Vec<Handle>,
}

/// Every running part.
#[derive(Default)]
pub(super) struct Tasks {
    parts: HashMap<Part, Running>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks")
            .field("parts", &self.parts.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Tasks {
    fn entry(&mut self, part: Part) -> &mut Running {
        self.parts.entry(part).or_insert_with(|| Running {
            stop: None,
            handles: Vec::new(),
        })
    }

    /// The token that stops `part` (created on first use); for parts stopped by cancellation.
    pub(super) fn token(&mut self, part: Part) -> CancellationToken {
        self.entry(part)
            .stop
            .get_or_insert_with(CancellationToken::new)
            .clone()
    }

    /// Runs a task of `part`.
    pub(super) fn spawn(&mut self, part: Part, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.entry(part).handles.push(Handle::Task(handle));
    }

    /// Records a thread of `part` (blocking work: sled writes, fall inference).
    pub(super) fn thread(&mut self, part: Part, handle: std::thread::JoinHandle<()>) {
        self.entry(part).handles.push(Handle::Thread(handle));
    }

    /// Cancels `part`'s token, if it has one.
    pub(super) fn cancel(&mut self, part: Part) {
        if let Some(t) = self.parts.get(&part).and_then(|r| r.stop.as_ref()) {
            t.cancel();
        }
    }

    /// Waits until every task and thread of `part` has ended, at most `limit` if given (a task
    /// still running then is aborted: a browser holding a connection must not stop a shutdown).
    pub(super) async fn join(&mut self, part: Part, limit: Option<Duration>) {
        let Some(running) = self.parts.remove(&part) else {
            return;
        };
        for h in running.handles {
            match h {
                Handle::Task(mut t) => match limit {
                    Some(d) => {
                        if tokio::time::timeout(d, &mut t).await.is_err() {
                            tracing::warn!(?part, "did not stop in time; aborted");
                            t.abort();
                        }
                    }
                    None => {
                        let _ = t.await;
                    }
                },
                Handle::Thread(t) => {
                    let _ = tokio::task::spawn_blocking(move || t.join()).await;
                }
            }
        }
    }
}
