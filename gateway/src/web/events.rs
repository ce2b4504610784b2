//! `/api/v1/events`: Server-Sent Events with every alert change (event `alert`, the alert's JSON)
//! and `resync` when this client fell behind and must reload the list.

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

pub(crate) async fn events(
    State(st): State<AppState>,
    s: Session,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = st.backend.subscribe();
    let until = Instant::now() + s.record.expires_at.since(st.backend.now());
    let shutdown = st.shutdown.clone();
    let backend = st.backend.clone();
    let stream = futures::stream::unfold(rx, move |mut rx| {
        let shutdown = shutdown.clone();
        let backend = backend.clone();
        async move {
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => return None,
                    // The session expired: end the stream; the browser reconnects and gets 401.
                    () = tokio::time::sleep_until(until) => return None,
                    r = rx.recv() => r,
                };
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
                return Some((Ok(event), rx));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
