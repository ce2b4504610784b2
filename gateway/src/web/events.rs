//! `/api/v1/events`: Server-Sent Events with every alert change (event `alert`, the alert's JSON)
//! and `resync` when this client fell behind and must reload the list. The stream ends when its
//! session does — expired, logged out, or ended because the account was disabled or got a new
//! password (checked before every event and every [`SESSION_CHECK`]): a disabled account sees no
//! further alert, and no alert counts as delivered to it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::AppState;
use super::session::Session;

/// Comment lines this often keep proxies and the browser from timing the stream out, and let a
/// dead station PC be noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a quiet stream checks that its session still exists.
const SESSION_CHECK: Duration = Duration::from_secs(5);

pub(crate) async fn events(
    State(st): State<AppState>,
    s: Session,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = st.backend.subscribe();
    let until = Instant::now() + s.record.expires_at.since(st.backend.now());
    let shutdown = st.shutdown.clone();
    let backend = st.backend.clone();
    let auth = st.auth.clone();
    let token = s.token;
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = futures::stream::unfold((rx, check), move |(mut rx, mut check)| {
        let shutdown = shutdown.clone();
        let backend = backend.clone();
        let auth = auth.clone();
        let token = token.clone();
        async move {
            let alive = || matches!(auth.session(&token, backend.now()), Ok(Some(_)));
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => return None,
                    // The session expired: end the stream; the browser reconnects and gets 401.
                    () = tokio::time::sleep_until(until) => return None,
                    _ = check.tick() => {
                        if alive() { continue } else { return None }
                    }
                    r = rx.recv() => r,
                };
                if !alive() {
                    return None;
                }
                let event = match next {
                    Ok(alert) => match Event::default().event("alert").json_data(&alert) {
                        Ok(ev) => {
                            backend.seen_on_dashboard(alert.id);
                            ev
                        }
                        Err(error) => {
                            tracing::warn!(%error, "alert not serializable for SSE");
                            continue;
                        }
                    },
                    Err(RecvError::Lagged(n)) => {
                        Event::default().event("resync").data(n.to_string())
                    }
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok(event), (rx, check)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
