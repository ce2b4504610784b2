// The admin's pages of the dashboard in headless Chromium (Debian `chromium`), in Simplified
// Chinese on a station PC and in English on a portrait tablet: care records (a resident's care
// flags saved and reset, the escalation given a level, saved and reset) and staff accounts (add,
// disable with its confirmation, enable, new password, role), each with its toast and the change
// log; then a nurse, who sees neither page and is refused by the API.
//
//   PINGAN_URL=http://127.0.0.1:8080/ PINGAN_ADMIN=boss PINGAN_ADMIN_PASSWORD=… \
//   PINGAN_NURSE=li PINGAN_NURSE_PASSWORD=… node tests/browser/admin.mjs
//
// The site must be the tests' `site_config` (residents R0 "Resident 0"…, contacts `nurse` and
// `head`, one escalation policy). Every text on screen must follow the chosen language
// (lang.mjs), toasts included, also when the language is switched while one shows. The last line
// of stdout is `ADMIN_RESULT {…}` with the pages checked, the toasts seen and the accounts made
// with their generated passwords; exit 0 on success, 1 on a failure (admin-failure-LANG.png).

import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { offLanguage } from './lang.mjs';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('PINGAN_URL');
const ADMIN = [env('PINGAN_ADMIN'), env('PINGAN_ADMIN_PASSWORD')];
const NURSE = [env('PINGAN_NURSE'), env('PINGAN_NURSE_PASSWORD')];
const ARTIFACTS = env('PINGAN_ARTIFACTS', new URL('./artifacts/', import.meta.url).pathname);
const CHROMIUM = env('PINGAN_CHROMIUM', '/usr/bin/chromium');
if (!BASE || !ADMIN[1] || !NURSE[1]) {
  console.error('set PINGAN_URL, PINGAN_ADMIN(_PASSWORD) and PINGAN_NURSE(_PASSWORD)');
  process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

const TOASTS = {
  'zh-CN': {
    care_saved: (v) => `已保存 ${v} 的护理标记`, care_reset: (v) => `${v} 的护理标记已恢复为配置文件`,
    esc_saved: () => '报警升级已保存', esc_reset: () => '报警升级已恢复为配置文件',
    added: (u) => `已添加账号 ${u}`, disabled: (u) => `已停用账号 ${u}`, enabled: (u) => `已启用账号 ${u}`,
    password: (u) => `已为 ${u} 重设密码`, admin: (u) => `${u} 现在是管理员`,
  },
  en: {
    care_saved: (v) => `Care flags of ${v} saved`, care_reset: (v) => `Care flags of ${v} reset to the site file`,
    esc_saved: () => 'Escalation saved', esc_reset: () => 'Escalation reset to the site file',
    added: (u) => `Account ${u} added`, disabled: (u) => `Account ${u} disabled`, enabled: (u) => `Account ${u} enabled`,
    password: (u) => `New password for ${u}`, admin: (u) => `${u} is now admin`,
  },
};

const result = { pages: [], toasts: [], accounts: [] };
const pageErrors = [];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let page;
let current = 'zh-CN';

async function check(where) {
  const bad = await page.evaluate(offLanguage, current);
  // A value rendered as text by mistake.
  const stray = await page.evaluate(() => document.body.innerText.match(/\[object \w+\]|\bnull\b|\bundefined\b|NaN/));
  if (stray) bad.push('stray text: ' + stray[0]);
  result.pages.push(current + ':' + where);
  if (bad.length) throw new Error(`${current} ${where}: text not in ${current}: ${bad.slice(0, 8).join(' | ')}`);
}
async function toastIs(want, what) {
  await page.waitForFunction((w) => { const el = document.getElementById('toast'); return !el.hidden && el.textContent === w; }, want, { timeout: 8000 })
    .catch(async () => { throw new Error(`${current} ${what}: toast ${JSON.stringify(await page.textContent('#toast'))}, expected ${JSON.stringify(want)}`); });
  result.toasts.push(want);
}
async function shot(name) { await page.screenshot({ path: `${ARTIFACTS}admin-${current}-${name}.png`, fullPage: true }); }
async function view(name) {
  await page.click(`nav button[data-view="${name}"]`);
  await page.waitForSelector(`#view-${name}:not([hidden]) h2`);
}
async function switchTo(lang) {
  await page.click('header button.lang');
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  current = lang;
}
async function login(lang, viewport, [user, password]) {
  current = lang;
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.addInitScript((l) => { if (!sessionStorage.getItem('pingan.test')) { localStorage.setItem('pingan.lang', l); sessionStorage.setItem('pingan.test', '1'); } }, lang);
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|403)/.test(m.text())) pageErrors.push('console: ' + m.text()); });
  await page.goto(BASE, { waitUntil: 'networkidle' });
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])', { timeout: 10000 });
  return context;
}

async function adminPass(lang, viewport) {
  const context = await login(lang, viewport, ADMIN);
  const T = TOASTS[lang];

  // Care flags: toggle, save, see it changed and logged, reset.
  await view('care');
  const row = 'tr[data-resident="R0"]';
  await page.waitForSelector(`${row} button.flag`);
  await check('care');
  await page.click(`${row} button.flag[data-flag="dementia"]`);
  await page.waitForSelector(`${row} button.flag[data-flag="dementia"][aria-pressed="true"]`);
  await page.click(`${row} button.save`);
  await toastIs(T.care_saved('Resident 0'), 'care flags saved');
  await page.waitForSelector(`${row} .pill.changed`);
  await page.waitForSelector('table.care-log tr:nth-child(2)');
  await check('care after save');
  await shot('care');
  await page.click(`${row} button.reset`);
  await toastIs(T.care_reset('Resident 0'), 'care flags reset');
  await page.waitForSelector(`${row} .pill:not(.changed)`);

  // Escalation: a second level telling the head nurse after 3 minutes; saved, then reset.
  await page.click('.policy[data-policy="0"] button.add-level');
  await page.waitForSelector('tr[data-level="0-1"]');
  await page.check('tr[data-level="0-1"] input[data-contact="head"]');
  await page.fill('tr[data-level="0-0"] input.timeout', '3m');
  await page.dispatchEvent('tr[data-level="0-0"] input.timeout', 'change');
  await check('escalation edited');
  await page.click('#esc-save');
  await toastIs(T.esc_saved(), 'escalation saved');
  await page.waitForSelector('#esc-reset');
  const saved = await page.evaluate(async () => (await (await fetch('/api/v1/care')).json()).escalation.policies[0].levels);
  if (saved.length !== 2 || saved[0].timeout !== '3m' || !saved[1].contacts.includes('head')) throw new Error('escalation stored ' + JSON.stringify(saved));
  await check('escalation saved');
  await shot('escalation');
  await page.click('#esc-reset');
  await toastIs(T.esc_reset(), 'escalation reset');
  await page.waitForSelector('#esc-reset', { state: 'detached' });

  // Staff accounts.
  const user = 'night-' + (lang === 'en' ? 'en' : 'zh');
  const urow = `tr[data-user="${user}"]`;
  await view('staff');
  await page.waitForSelector('table.staff');
  await check('staff');
  await page.fill('#staff-user', user);
  await page.selectOption('#staff-role', 'nurse');
  await page.click('#staff-add-btn');
  await toastIs(T.added(user), 'account added');
  await page.waitForSelector(`.secret code`);
  await check('staff after add');
  await page.click(`${urow} button[data-disable]`);
  await page.waitForSelector(`${urow} .confirm`);
  await check('disable confirmation');
  await page.click(`${urow} button[data-cancel]`);
  await page.click(`${urow} button[data-disable]`);
  await page.click(`${urow} button[data-run="disable"]`);
  await toastIs(T.disabled(user), 'account disabled');
  await page.waitForSelector(`${urow}.disabled`);
  await page.click(`${urow} button[data-enable]`);
  await toastIs(T.enabled(user), 'account enabled');
  await page.click(`${urow} button[data-password]`);
  await page.click(`${urow} button[data-run="password"]`);
  await toastIs(T.password(user), 'new password');
  const password = await page.textContent('.secret code');
  result.accounts.push({ user, password });
  await page.click(`${urow} button[data-role="admin"]`);
  await toastIs(T.admin(user), 'role changed');
  await page.waitForFunction(() => document.querySelectorAll('table.staff-log tr').length >= 6);
  await check('staff after changes');
  await shot('staff');

  // A toast showing when the language is switched follows it.
  const other = lang === 'en' ? 'zh-CN' : 'en';
  await page.click(`${urow} button[data-role="nurse"]`);
  await page.waitForFunction(() => !document.getElementById('toast').hidden);
  await switchTo(other);
  await toastIs(`${user} ${other === 'en' ? 'is now nurse' : '现在是护士'}`, 'toast after switching the language');
  await check('staff after switching');
  await switchTo(lang);
  await context.close();
}

async function nursePass(lang, viewport) {
  const context = await login(lang, viewport, NURSE);
  await page.waitForSelector('nav button[data-view="care"]', { state: 'hidden' });
  await page.waitForSelector('nav button[data-view="staff"]', { state: 'hidden' });
  const refused = await page.evaluate(async () => { const r = await fetch('/api/v1/care'); return [r.status, (await r.json()).code]; });
  if (refused[0] !== 403 || refused[1] !== 'forbidden') throw new Error('the nurse got ' + refused);
  await check('nurse without admin pages');
  await context.close();
}

try {
  await adminPass('zh-CN', { width: 1366, height: 900 });
  await adminPass('en', { width: 800, height: 1280 });
  await nursePass('en', { width: 800, height: 1280 });
  if (pageErrors.length) throw new Error('page errors: ' + pageErrors.join(' | '));
  console.log('ADMIN_RESULT ' + JSON.stringify(result));
  await browser.close();
} catch (err) {
  console.error('admin pages failed:', err && err.message ? err.message : err);
  if (pageErrors.length) console.error('page errors:', pageErrors.join(' | '));
  if (page) await page.screenshot({ path: `${ARTIFACTS}admin-failure-${current}.png`, fullPage: true }).catch(() => {});
  console.log('ADMIN_RESULT ' + JSON.stringify({ ...result, error: String(err && err.message || err) }));
  await browser.close();
  process.exit(1);
}
