// End-to-end test of the nurse-station dashboard in headless Chromium (Debian `chromium`).
//
//   PINGAN_URL=http://127.0.0.1:8080/ PINGAN_USER=demo PINGAN_PASSWORD=… node tests/browser/e2e.mjs
//
// Logs in, waits for an SOS alert (PINGAN_SOS_TIMEOUT_MS, default 2000 ms after login),
// acknowledges it, checks the page shows it acknowledged, and visits every view. Screenshots go
// to tests/browser/artifacts/ (or PINGAN_ARTIFACTS). The last line of stdout is
//   E2E_RESULT {"sos_alert_id": …, "page_weight_bytes": …, "first_contentful_paint_ms": …, …}
// so a harness can check the alert's MQTT topic (pingan/{site}/alerts/{id}) shows acknowledged.
// Exit code 0 on success, 1 on any failure (a failure.png screenshot is kept).

import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('PINGAN_URL');
const USER = env('PINGAN_USER');
const PASSWORD = env('PINGAN_PASSWORD');
const SOS_TIMEOUT = Number(env('PINGAN_SOS_TIMEOUT_MS', '2000'));
const ARTIFACTS = env('PINGAN_ARTIFACTS', new URL('./artifacts/', import.meta.url).pathname);
const CHROMIUM = env('PINGAN_CHROMIUM', '/usr/bin/chromium');

if (!BASE || !USER || !PASSWORD) {
  console.error('set PINGAN_URL, PINGAN_USER and PINGAN_PASSWORD');
  process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

const result = {};
const pageErrors = [];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The page asks /api/v1/me before login; that 401 is expected, any other error is not.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('status of 401')) pageErrors.push('console: ' + m.text()); });

  // Bytes on the wire per response (headers + body), from the DevTools protocol.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const requests = new Map();
  cdp.on('Network.responseReceived', (e) => requests.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });

  // 1. First load: the login page with every asset.
  await page.goto(BASE, { waitUntil: 'networkidle' });
  await page.waitForSelector('#login:not([hidden])');
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
    return { fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  result.page_weight_bytes = bytes;
  result.first_contentful_paint_ms = timing.fcp && Math.round(timing.fcp);
  result.dom_content_loaded_ms = Math.round(timing.dcl);
  result.load_ms = Math.round(timing.load);
  result.first_load_requests = requests.size;
  await page.screenshot({ path: ARTIFACTS + '01-login.png' });

  // 2. Log in.
  await page.fill('#login-user', USER);
  await page.fill('#login-password', PASSWORD);
  const loginAt = Date.now();
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])', { timeout: 5000 });
  result.login_ms = Date.now() - loginAt;
  // Note when the SOS first shows, on the gateway's clock, to measure raise → visible.
  await page.evaluate(() => {
    const check = () => {
      const el = document.querySelector('#alert-list .alert[data-kind="sos"]');
      if (el && !window.__sosSeen) {
        const a = S.alerts.get(el.dataset.id);
        window.__sosSeen = { at: Date.now() + S.skew, raised: a ? a.raised_at : null };
      }
    };
    new MutationObserver(check).observe(document.getElementById('alert-list'), { childList: true, subtree: true });
    check();
  });

  // 3. An SOS appears.
  const sos = '#alert-list .alert[data-kind="sos"]';
  await page.waitForSelector(sos, { timeout: SOS_TIMEOUT });
  result.sos_visible_after_login_ms = Date.now() - loginAt;
  result.sos_alert_id = await page.getAttribute(sos, 'data-id');
  // The login click is the gesture that unlocks the High-priority tone.
  result.alarm_audio = await page.evaluate(() => (S.audio ? S.audio.state : 'none'));
  const seen = await page.evaluate(() => window.__sosSeen);
  // Meaningful when the SOS was raised after login (it then came over the event stream).
  if (seen && seen.raised) result.sos_raise_to_visible_ms = seen.at - seen.raised;
  await page.waitForLoadState('networkidle').catch(() => {});
  result.page_weight_after_login_bytes = bytes;
  await page.screenshot({ path: ARTIFACTS + '02-sos-raised.png', fullPage: true });

  // 4. Acknowledge it from the list.
  await page.click(`${sos} button.ack`);
  await page.waitForSelector(`.alert[data-id="${result.sos_alert_id}"][data-state="acknowledged"]`, { timeout: 3000 });
  result.acknowledged = true;
  await page.screenshot({ path: ARTIFACTS + '03-sos-acknowledged.png', fullPage: true });

  // 5. Detail with evidence and audit trail: the SOS, and a fall with an accelerometer plot if any.
  await page.click(`.alert[data-id="${result.sos_alert_id}"] button.details`);
  await page.waitForSelector('#detail:not([hidden]) table.audit');
  const audit = await page.textContent('#detail table.audit');
  if (!audit.includes('确认') && !audit.includes('Acknowledged')) throw new Error('audit trail lacks the acknowledgement');
  await page.screenshot({ path: ARTIFACTS + '04-sos-detail.png', fullPage: true });
  // Locators, not element handles: live updates re-render the list.
  const fall = page.locator('#alert-list .alert[data-kind="fall"] button.details');
  if (await fall.count()) {
    await fall.first().click();
    await page.waitForSelector('#detail svg.plot polyline', { timeout: 3000 });
    result.fall_plot = true;
    await page.locator('#detail svg.plot').scrollIntoViewIfNeeded();
    await page.screenshot({ path: ARTIFACTS + '05-fall-detail.png' });
  }

  // 6. Other views, then English.
  for (const [view, file] of [['floor', '06-floor.png'], ['devices', '07-devices.png'], ['status', '08-status.png']]) {
    await page.click(`nav button[data-view="${view}"]`);
    await page.waitForSelector(`#view-${view}:not([hidden]) h2`);
    await page.screenshot({ path: ARTIFACTS + file, fullPage: true });
  }
  await page.click('nav button[data-view="alerts"]');
  await page.click('header button.lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.screenshot({ path: ARTIFACTS + '09-alerts-en.png', fullPage: true });

  // A portrait tablet at the bedside.
  await page.setViewportSize({ width: 800, height: 1280 });
  await page.screenshot({ path: ARTIFACTS + '10-tablet-en.png' });
  await page.setViewportSize({ width: 1366, height: 900 });

  // 7. Warm reload (cached assets) as a second first-render number.
  await page.reload({ waitUntil: 'networkidle' });
  result.reload_first_contentful_paint_ms = await page.evaluate(() => {
    const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
    return fcp ? Math.round(fcp.startTime) : null;
  });

  if (pageErrors.length) throw new Error('page errors: ' + pageErrors.join(' | '));
  if (result.page_weight_bytes > 300 * 1024) throw new Error(`page weight ${result.page_weight_bytes} B > 300 KB`);
  if (result.first_contentful_paint_ms > 1000) throw new Error(`first render ${result.first_contentful_paint_ms} ms > 1 s`);
  console.log('E2E_RESULT ' + JSON.stringify(result));
  await browser.close();
} catch (err) {
  console.error('E2E failed:', err && err.message ? err.message : err);
  if (pageErrors.length) console.error('page errors:', pageErrors.join(' | '));
  if (page) await page.screenshot({ path: ARTIFACTS + 'failure.png', fullPage: true }).catch(() => {});
  console.log('E2E_RESULT ' + JSON.stringify({ ...result, error: String(err && err.message || err) }));
  await browser.close();
  process.exit(1);
}
