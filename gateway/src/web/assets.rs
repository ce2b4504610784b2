//! The single-page dashboard, embedded in the binary so it works with the internet down.
//!
//! `index.html` is revalidated on every load (ETag); the scripts and styles it references carry
//! their content hash in the URL (`/app.js?v=…`), so they are cached for a year and an upgraded
//! gateway still serves a consistent page.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const I18N_JS: &str = include_str!("../../assets/i18n.js");
const DEVICES_JS: &str = include_str!("../../assets/devices.js");
const SHIFT_JS: &str = include_str!("../../assets/shift.js");
const ADMIN_JS: &str = include_str!("../../assets/admin.js");
const APP_CSS: &str = include_str!("../../assets/app.css");
/// The OpenAPI description of the REST API.
pub(crate) const OPENAPI: &str = include_str!("../../../docs/openapi.yaml");

#[derive(Debug)]
struct Asset {
    body: String,
    etag: String,
    content_type: &'static str,
    cache: &'static str,
}

impl Asset {
    fn new(body: String, content_type: &'static str, cache: &'static str) -> Self {
        Self {
            etag: format!("\"{:016x}\"", fnv1a(body.as_bytes())),
            body,
            content_type,
            cache,
        }
    }
}

#[derive(Debug)]
struct Assets {
    index: Asset,
    app_js: Asset,
    i18n_js: Asset,
    devices_js: Asset,
    shift_js: Asset,
    admin_js: Asset,
    app_css: Asset,
    openapi: Asset,
}

const LONG: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let app_js = Asset::new(APP_JS.to_owned(), "text/javascript; charset=utf-8", LONG);
        let i18n_js = Asset::new(I18N_JS.to_owned(), "text/javascript; charset=utf-8", LONG);
        let devices_js = Asset::new(
            DEVICES_JS.to_owned(),
            "text/javascript; charset=utf-8",
            LONG,
        );
        let shift_js = Asset::new(SHIFT_JS.to_owned(), "text/javascript; charset=utf-8", LONG);
        let admin_js = Asset::new(ADMIN_JS.to_owned(), "text/javascript; charset=utf-8", LONG);
        let app_css = Asset::new(APP_CSS.to_owned(), "text/css; charset=utf-8", LONG);
        let version = |a: &Asset| a.etag.trim_matches('"').to_owned();
        let index = INDEX
            .replace("{{app_js}}", &version(&app_js))
            .replace("{{i18n_js}}", &version(&i18n_js))
            .replace("{{devices_js}}", &version(&devices_js))
            .replace("{{shift_js}}", &version(&shift_js))
            .replace("{{admin_js}}", &version(&admin_js))
            .replace("{{app_css}}", &version(&app_css));
        Assets {
            index: Asset::new(index, "text/html; charset=utf-8", REVALIDATE),
            app_js,
            i18n_js,
            devices_js,
            shift_js,
            admin_js,
            app_css,
            openapi: Asset::new(
                OPENAPI.to_owned(),
                "application/yaml; charset=utf-8",
                REVALIDATE,
            ),
        }
    })
}

pub(crate) async fn index(headers: HeaderMap) -> Response {
    serve(&assets().index, &headers)
}
pub(crate) async fn app_js(headers: HeaderMap) -> Response {
    serve(&assets().app_js, &headers)
}
pub(crate) async fn i18n_js(headers: HeaderMap) -> Response {
    serve(&assets().i18n_js, &headers)
}
pub(crate) async fn devices_js(headers: HeaderMap) -> Response {
    serve(&assets().devices_js, &headers)
}
pub(crate) async fn shift_js(headers: HeaderMap) -> Response {
    serve(&assets().shift_js, &headers)
}
pub(crate) async fn admin_js(headers: HeaderMap) -> Response {
    serve(&assets().admin_js, &headers)
}
pub(crate) async fn app_css(headers: HeaderMap) -> Response {
    serve(&assets().app_css, &headers)
}
pub(crate) async fn openapi(headers: HeaderMap) -> Response {
    serve(&assets().openapi, &headers)
}

fn serve(a: &'static Asset, headers: &HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag || t.trim() == "*"));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, a.content_type)], a.body.as_str()).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(a.cache));
    resp
}

/// Headers on every response: no framing, no sniffing, no referrer, and scripts only from here.
pub(crate) async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// FNV-1a, 64 bit: a cache validator, not a security boundary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Bytes of the page a browser loads on first visit (HTML, scripts, styles).
pub fn page_weight() -> usize {
    let a = assets();
    [
        &a.index,
        &a.app_js,
        &a.i18n_js,
        &a.devices_js,
        &a.shift_js,
        &a.admin_js,
        &a.app_css,
    ]
    .iter()
    .map(|x| x.body.len())
    .sum()
}
