//! What the running gateway leaves in its data directory for tools that only have the directory
//! (the database is locked while it runs): the site id and broker address (`pingan-site`,
//! `pingan-mqtt`, for `pingan alerts`), the dashboard's address and a tool token (`pingan-http`,
//! `pingan-api-token`, for `pingan report`), and in the store's meta the report settings it runs
//! with (docs/STORAGE.md).

use super::error::StartError;
use crate::config::Config;
use crate::report::ReportSetup;
use crate::store::Store;

pub(super) fn open_store(config: &Config) -> Result<Store, StartError> {
    let data_dir = &config.storage.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let store = Store::open(data_dir)?;
    store.set_meta("site_id", &config.site.id)?;
    store.set_meta("locale", config.site.locale.as_str())?;
    // Tools that only know the data directory find the running gateway's broker here (the
    // database itself is locked while the gateway runs).
    let _ = std::fs::write(data_dir.join("pingan-site"), &config.site.id);
    let _ = std::fs::write(data_dir.join("pingan-mqtt"), config.mqtt.bind.to_string());
    Ok(store)
}

/// Records the report settings, so `pingan report` with the gateway stopped computes with them.
pub(super) fn record_setup(store: &Store, setup: &ReportSetup) {
    let saved = serde_json::to_string(setup)
        .map_err(|e| e.to_string())
        .and_then(|json| {
            store
                .set_meta(REPORT_SETUP, &json)
                .map_err(|e| e.to_string())
        });
    if let Err(error) = saved {
        tracing::warn!(%error, "cannot record the report settings");
    }
}

/// Meta key of the report settings the gateway last ran with.
pub const REPORT_SETUP: &str = "report_setup";
/// File in the data directory with the dashboard's address, for `pingan report`.
pub const HTTP_FILE: &str = "pingan-http";
/// File in the data directory with the tool token (mode 0600), for `pingan report`.
pub const TOKEN_FILE: &str = "pingan-api-token";

/// Writes the dashboard's address and a fresh tool token (readable by the gateway's user only)
/// into the data directory, so `pingan report` can ask the running gateway. Returns the token;
/// `None` when it could not be written (reports then need a dashboard login).
pub(super) fn write_tool_access(
    config: &Config,
    listener: &tokio::net::TcpListener,
) -> Option<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = &config.storage.data_dir;
    let addr = listener.local_addr().unwrap_or(config.http.bind);
    let _ = std::fs::write(dir.join(HTTP_FILE), addr.to_string());
    let token = crate::web::tool::new_tool_token();
    let path = dir.join(TOKEN_FILE);
    let _ = std::fs::remove_file(&path);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(token.as_bytes()));
    match written {
        Ok(()) => Some(token),
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "cannot write the tool token; `pingan report` needs the gateway stopped");
            None
        }
    }
}
