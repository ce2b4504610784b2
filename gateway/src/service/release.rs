//! When the running gateway gives back the memory start-up touched ([`crate::cold_pages`]): five
//! seconds after start-up (the store recovered, the fall model loaded, the first polls and links
//! under way), once more after a minute (first connections, the first fall windows scored), then
//! every ten minutes, so that code run once since (a report, a reconnection) does not stay counted
//! either. Code the steady state runs faults back in from the page cache at the next
//! poll, a few hundred minor faults. In between, the free heap alone is trimmed every minute.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The first releases, counted from start-up.
const FIRST: [Duration; 2] = [Duration::from_secs(5), Duration::from_secs(55)];
/// After them, the free heap alone is given back this often: the store's writes keep leaving
/// freed pages in the heap that glibc would otherwise hold until the next release.
const TRIM_EVERY: Duration = Duration::from_secs(60);
/// Every this many trims, a whole release instead (every ten minutes).
const RELEASE_EVERY_TRIMS: u32 = 10;

/// Releases until `stop`.
pub(super) async fn run(stop: CancellationToken) {
    for wait in FIRST {
        if !pause(&stop, wait).await {
            return;
        }
        release().await;
    }
    for tick in 1u32.. {
        if !pause(&stop, TRIM_EVERY).await {
            return;
        }
        if tick % RELEASE_EVERY_TRIMS == 0 {
            release().await;
        } else {
            let _ = tokio::task::spawn_blocking(crate::cold_pages::trim_heap).await;
        }
    }
}

/// Waits `d`; false when `stop` came first.
async fn pause(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(d) => true,
    }
}

async fn release() {
    // Reading smaps and trimming the heap take a few milliseconds: off the async workers.
    if let Ok(done) = tokio::task::spawn_blocking(crate::cold_pages::release).await {
        tracing::debug!(%done, "start-up memory given back");
    }
}
