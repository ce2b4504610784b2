// Pingan nurse-station dashboard. Plain JS, no build step, no external resources.
// Data: REST under /api/v1, live alert changes over Server-Sent Events (/api/v1/events).
// Rule: never hide an alert. Open alerts are never paginated, the header always counts the
// unacknowledged ones, and a lost connection is shown in red across the page.
// Rule: every text on screen comes from the I18N table by key and is rendered again when the
// language changes (toasts and error lines keep their key, not their text). Server messages are
// not shown; errors are shown by their `code`. Machine text that has no translation (a driver's
// error, a system detail in English) is shown in a `.raw` element, marked as such; names from the
// config shown where a label could be (the site's name in the header) carry the class `data`.
// devices.js, shift.js and admin.js add views to VIEWS; they use the helpers here.
'use strict';

const $ = (id) => document.getElementById(id);
const PRIO_RANK = { high: 3, medium: 2, low: 1 };
const S = {
  lang: localStorage.getItem('pingan.lang') || null, me: null, csrf: '', skew: 0,
  alerts: new Map(), residents: [], devices: [], status: null, view: 'alerts',
  selected: null, detail: null, es: null, live: false, audio: null, mutedUntil: 0,
  timers: [], lastHighIds: new Set(), toast: null, loginError: null,
};
// Views besides the alert list: name → { show() } (devices.js and shift.js add theirs).
const VIEWS = {};

// ---------- helpers ----------
function lang() { return S.lang || (S.status && S.status.locale) || 'zh-CN'; }
function t(key, vars) {
  const look = (dict) => key.split('.').reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), dict);
  let s = look(I18N[lang()]);
  if (s === undefined) s = look(I18N.en);
  if (s === undefined) s = key.split('.').pop();
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace('{' + k + '}', v);
  return s;
}
function h(tag, props, ...kids) {
  const el = tag === 'svg' || props && props.svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false || k === 'svg') continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid.nodeType ? kid : String(kid));
  return el;
}
function now() { return Date.now() + S.skew; }
function pad(n) { return String(n).padStart(2, '0'); }
function fmtDur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), ss = s % 60;
  const u = (n, k) => lang() === 'zh-CN' ? n + t(k) : n + ' ' + t(k);
  if (d) return u(d, 'd') + ' ' + u(hh, 'h');
  if (hh) return u(hh, 'h') + ' ' + u(pad(m), 'm');
  if (m) return u(m, 'm') + ' ' + u(pad(ss), 's');
  return u(ss, 's');
}
// Times are shown in the site's time zone (the gateway's), not the station PC's.
function siteZone() { return (S.status && S.status.timezone) || undefined; }
function fmtTime(ms) {
  if (!ms) return '—';
  const opts = { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: siteZone() };
  try { return new Date(ms).toLocaleString(lang(), opts); } catch (e) { delete opts.timeZone; return new Date(ms).toLocaleString(lang(), opts); }
}
function ago(ms) { return h('span', { 'data-since': ms, text: t('ago', { d: fmtDur(now() - ms) }) }); }
function isAcked(a) { return a.state === 'acknowledged' || a.state === 'resolved'; }
// A toast keeps its key and values, so switching the language while it shows re-renders it.
function toast(key, vars) {
  S.toast = { key, vars };
  const el = $('toast'); el.hidden = false; renderToast();
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { el.hidden = true; S.toast = null; }, 3500);
}
function renderToast() {
  if (!S.toast) return;
  const { key, vars } = S.toast;
  $('toast').textContent = key === 'error_of' ? errText(vars) : t(key, vars);
}
function toastError(err) { toast('error_of', { code: err.code, by: err.by, status: err.status }); }
// An API error in the person's language, from its code.
function errText(e) {
  const msg = e && e.code && I18N.en.err[e.code] !== undefined ? t('err.' + e.code, { by: e.by || '' }) : t('err.other', { status: (e && e.status) || '—' });
  return t('error') + ': ' + msg;
}
function raw(text) { return h('span', { class: 'raw', lang: 'en', text }); }
function fmtLoc(loc) {
  if (!loc) return '';
  const parts = [];
  if (loc.room) parts.push(t('room') + ' ' + loc.room);
  if (loc.bed) parts.push(t('bed') + ' ' + loc.bed);
  return parts.join(' · ');
}
function residentName(id) {
  const r = S.residents.find((x) => x.id === id);
  return r ? r.name : id;
}
function subjectText(a) {
  if (a.resident) return residentName(a.resident);
  const s = a.subject || {};
  if (s.type === 'device') return t('device') + ' ' + s.id;
  if (s.type === 'room') return t('room') + ' ' + s.id;
  if (s.type === 'gateway') return t('gateway') + ' ' + s.id;
  return (S.status && S.status.site_name) || t('site');
}

// ---------- API ----------
async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (init.method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.headers['X-CSRF-Token'] = S.csrf;
    init.body = JSON.stringify(opts.body || {});
  }
  let r;
  try { r = await fetch('/api/v1' + path, init); } catch (e) { const err = new Error('network'); err.code = 'network'; throw err; }
  let data = null;
  if (r.status !== 204) { try { data = await r.json(); } catch (e) { data = null; } }
  if (!r.ok) {
    const err = new Error((data && data.error) || r.statusText);
    err.status = r.status; err.retryAfter = r.headers.get('Retry-After');
    err.code = data && data.code; err.by = data && data.by;
    if (r.status === 401 && path !== '/login') showLogin();
    throw err;
  }
  return data;
}
function setMe(me) {
  S.me = me.user; S.csrf = me.csrf; S.skew = me.now - Date.now(); S.role = me.role;
  $('me').textContent = me.user;
  // The admin's pages are shown to admins only (the API refuses others anyway).
  document.querySelectorAll('.admin-only').forEach((b) => { b.hidden = me.role !== 'admin'; });
  if (me.role !== 'admin' && ['care', 'staff'].includes(S.view)) S.view = 'alerts';
}

// ---------- login ----------
function showLogin() {
  stop();
  $('app').hidden = true; $('login').hidden = false;
  applyStatic();
  $('login-user').focus();
}
async function onLogin(e) {
  e.preventDefault();
  initAudio(); // the login click is the user gesture browsers require before sound
  S.loginError = null; renderLoginError();
  $('login-submit').disabled = true;
  try {
    const me = await api('/login', { method: 'POST', body: { user: $('login-user').value.trim(), password: $('login-password').value } });
    $('login-password').value = '';
    setMe(me);
    start();
  } catch (err) {
    S.loginError = err.status === 429 ? { key: 'login_throttled', vars: { s: err.retryAfter || '60' } } : err.status === 401 ? { key: 'login_failed' } : { key: 'error_of', vars: { code: err.code, status: err.status } };
    renderLoginError();
  } finally { $('login-submit').disabled = false; }
}
function renderLoginError() {
  const e = S.loginError;
  $('login-error').textContent = !e ? '' : e.key === 'error_of' ? errText(e.vars) : t(e.key, e.vars);
}
async function logout() {
  try { await api('/logout', { method: 'POST' }); } catch (e) { /* the session may be gone already */ }
  S.me = null; S.csrf = '';
  showLogin();
}

// ---------- lifecycle ----------
function start() {
  $('login').hidden = true; $('app').hidden = false;
  stop();
  loadAll();
  connectEvents();
  S.timers.push(setInterval(tick, 1000));
  S.timers.push(setInterval(soundLoop, 4000));
  S.timers.push(setInterval(loadAlerts, 30000)); // belt and braces behind SSE
  S.timers.push(setInterval(() => { loadStatus(); if (S.view === 'floor') loadResidents(); if (S.view === 'devices') loadDevices(); }, 10000));
  S.timers.push(setInterval(async () => { try { setMe(await api('/me')); } catch (e) { /* 401 shows the login */ } }, 300000));
  applyStatic(); setView(S.view); tick();
}
function stop() {
  S.timers.forEach(clearInterval); S.timers = [];
  if (S.es) { S.es.close(); S.es = null; }
}
async function loadAll() {
  await Promise.allSettled([loadStatus(), loadResidents(), loadDevices()]);
  await loadAlerts();
}
async function loadStatus() {
  try { S.status = await api('/status'); applyStatic(); if (S.view === 'status') renderStatus(); } catch (e) { /* shown by the live dot */ }
}
async function loadResidents() {
  try { S.residents = await api('/residents'); if (S.view === 'floor') renderFloor(); } catch (e) { /* keep the last */ }
}
async function loadDevices() {
  try { S.devices = await api('/devices'); if (S.view === 'devices') renderDevices(); } catch (e) { /* keep the last */ }
}
async function loadAlerts() {
  try {
    const list = await api('/alerts');
    const next = new Map();
    for (const a of list) {
      const old = S.alerts.get(a.id);
      next.set(a.id, old && old.revision > a.revision ? old : a);
    }
    S.alerts = next;
    renderAlerts();
    if (S.es && S.es.readyState === EventSource.OPEN) setLive(true);
  } catch (e) { if (e.status !== 401) setLive(false); }
}
function connectEvents() {
  if (S.es) S.es.close();
  const es = new EventSource('/api/v1/events');
  S.es = es;
  es.onopen = () => { setLive(true); loadAlerts(); };
  es.addEventListener('alert', (e) => { try { upsert(JSON.parse(e.data)); } catch (err) { loadAlerts(); } });
  es.addEventListener('resync', () => loadAlerts());
  es.onerror = () => {
    setLive(false);
    if (es.readyState === EventSource.CLOSED && S.es === es) {
      setTimeout(async () => {
        if (S.es !== es) return;
        try { setMe(await api('/me')); connectEvents(); } catch (err) { if (err.status !== 401) setTimeout(() => { if (S.es === es) connectEvents(); }, 3000); }
      }, 2000);
    }
  };
}
function setLive(ok) {
  S.live = ok;
  $('banner-conn').hidden = ok;
  $('live-dot').className = ok ? 'dot' : 'dot down';
}
function upsert(a) {
  const old = S.alerts.get(a.id);
  if (old && old.revision >= a.revision) return;
  // A new high-priority alert is never covered by an earlier silence.
  if (a.priority === 'high' && !isAcked(a) && !(old && old.priority === 'high' && !isAcked(old))) S.mutedUntil = 0;
  S.alerts.set(a.id, a);
  renderAlerts();
  if (S.selected === a.id) loadDetail(a.id);
}

// ---------- alerts ----------
function cmpOpen(a, b) {
  return (isAcked(a) - isAcked(b)) || (PRIO_RANK[b.priority] - PRIO_RANK[a.priority]) || (b.raised_at - a.raised_at);
}
function renderAlerts() {
  const all = [...S.alerts.values()];
  const open = all.filter((a) => a.state !== 'resolved').sort(cmpOpen);
  const resolved = all.filter((a) => a.state === 'resolved').sort((a, b) => (b.resolved_at || 0) - (a.resolved_at || 0));
  const cache = new Map();
  const item = (a) => {
    // Reuse an unchanged card so a tap in progress is not lost to a re-render.
    const key = a.id + '/' + a.revision + '/' + lang() + '/' + (S.selected === a.id);
    const el = renderAlerts.cache.get(key) || alertItem(a);
    cache.set(key, el);
    return el;
  };
  sync($('alert-list'), open.length ? open.map(item) : [h('li', { class: 'empty', text: t('no_alerts') })]);
  sync($('resolved-list'), resolved.map(item));
  renderAlerts.cache = cache;
  $('h-resolved').hidden = resolved.length === 0;
  renderCounts(open);
  soundBanner();
}
renderAlerts.cache = new Map();
function sync(parent, nodes) {
  const cur = [...parent.children];
  if (cur.length !== nodes.length || cur.some((el, i) => el !== nodes[i])) parent.replaceChildren(...nodes);
}
function alertItem(a) {
  const acked = isAcked(a);
  const cls = ['alert', a.priority, a.state === 'resolved' ? 'resolved' : acked ? 'acked' : 'unacked', S.selected === a.id ? 'selected' : ''].join(' ');
  const meta = [
    h('span', { class: 'state ' + a.state, text: t('state.' + a.state) }),
    h('span', {}, t('raised') + ' ', ago(a.raised_at)),
  ];
  if (a.escalation_level > 0) meta.push(h('span', {}, t('escalation') + ' ', h('b', { text: t('level', { n: a.escalation_level }) })));
  if (a.escalate_at && !acked) meta.push(h('span', {}, t('next_escalation') + ' ', h('b', { class: 'countdown', 'data-until': a.escalate_at, text: fmtDur(a.escalate_at - now()) })));
  if (a.acknowledged_by) meta.push(h('span', {}, t('acknowledged_by') + ' ', h('b', { text: a.acknowledged_by })));
  if (a.green_channel) meta.push(h('b', { text: t('green_channel') }));
  const actions = [];
  if (!acked) actions.push(h('button', { type: 'button', class: 'ack danger', onclick: () => command(a.id, 'ack', personBody()) }, t('ack')));
  if (a.state !== 'resolved') actions.push(h('button', { type: 'button', class: 'resolve', onclick: () => openDetail(a.id) }, t('resolve')));
  actions.push(h('button', { type: 'button', class: 'details', onclick: () => openDetail(a.id) }, t('details')));
  return h('li', { class: cls, 'data-id': a.id, 'data-kind': a.kind, 'data-state': a.state, 'data-priority': a.priority },
    h('div', { class: 'bar' }),
    h('div', { class: 'title' }, h('span', { class: 'prio', text: t('priority.' + a.priority) }), t('kind.' + a.kind), a.count > 1 ? ' ×' + a.count : ''),
    h('div', { class: 'actions' }, actions),
    h('div', { class: 'who' }, subjectText(a), a.location && a.location.room && !(a.subject && a.subject.type === 'room') ? '  ·  ' + fmtLoc(a.location) : ''),
    h('div', { class: 'meta' }, meta));
}
function renderCounts(open) {
  const un = open.filter((a) => !isAcked(a));
  const n = { high: 0, medium: 0, low: 0 };
  un.forEach((a) => { n[a.priority] += 1; });
  $('counts').replaceChildren(...['high', 'medium', 'low'].map((p) => h('span', { class: 'count ' + p + (n[p] ? '' : ' zero'), title: t('priority.' + p) + ' ' + t('unacked'), text: t('priority.' + p) + ' ' + n[p] })));
  document.title = (un.length ? '(' + un.length + ') ' : '') + t('app_title');
  const b = $('banner-alerts');
  b.hidden = S.view === 'alerts' || un.length === 0;
  b.textContent = t('open_alerts') + ': ' + un.map((a) => t('kind.' + a.kind) + ' ' + subjectText(a)).join(' / ');
}
function personBody() {
  const name = localStorage.getItem('pingan.person') || '';
  return name ? { name } : {};
}
async function command(id, what, body) {
  try {
    const a = await api('/alerts/' + encodeURIComponent(id) + '/' + what, { method: 'POST', body });
    upsert(a);
    toast(what === 'ack' ? 'ack_done' : 'resolve_done');
    if (S.selected === id) loadDetail(id);
    return true;
  } catch (err) {
    toastError(err);
    loadAlerts();
    return false;
  }
}

// ---------- detail ----------
function openDetail(id) {
  S.selected = id;
  setView('alerts');
  $('main').classList.add('with-detail');
  $('detail').hidden = false;
  renderAlerts();
  loadDetail(id);
  if (window.matchMedia('(max-width: 1000px)').matches) window.scrollTo(0, 0);
}
function closeDetail() {
  S.selected = null; S.detail = null;
  $('detail').hidden = true; $('main').classList.remove('with-detail');
  renderAlerts();
}
async function loadDetail(id) {
  try {
    const d = await api('/alerts/' + encodeURIComponent(id));
    if (S.selected !== id) return;
    S.detail = d; renderDetail();
  } catch (err) { toastError(err); }
}
function renderDetail() {
  const d = S.detail; if (!d) return;
  const a = d.alert;
  const keep = { name: ($('f-name') || {}).value, note: ($('f-note') || {}).value };
  const kv = (k, v) => (v === null || v === undefined || v === '' ? [] : [h('dt', { text: t(k) }), h('dd', {}, v)]);
  const dl = h('dl', { class: 'kv' },
    kv('resident', a.resident ? residentName(a.resident) + ' (' + a.resident + ')' : subjectText(a)),
    kv('location', fmtLoc(a.location) || null),
    kv('device', a.device),
    kv('raised', [fmtTime(a.raised_at), ' · ', ago(a.raised_at)]),
    kv('last_seen', fmtTime(a.last_seen)),
    kv('count', a.count),
    kv('escalation', t('level', { n: a.escalation_level })),
    kv('next_escalation', a.escalate_at && !isAcked(a) ? h('span', { 'data-until': a.escalate_at, text: fmtDur(a.escalate_at - now()) }) : null),
    kv('acknowledged_by', a.acknowledged_by ? a.acknowledged_by + ' · ' + fmtTime(a.acknowledged_at) : null),
    kv('resolution', a.resolved_at ? resolutionText(d.audit || []) + ' · ' + fmtTime(a.resolved_at) : null),
    kv('detail_text', a.detail ? raw(a.detail) : null));
  const parts = [
    h('div', { class: 'head' },
      h('h2', {}, h('span', { class: 'state ' + a.state, text: t('priority.' + a.priority) + ' · ' }), t('kind.' + a.kind)),
      h('button', { type: 'button', id: 'detail-close', onclick: closeDetail }, t('close'))),
    h('p', {}, h('b', { class: 'state ' + a.state, text: t('state.' + a.state) }), a.green_channel ? ' · ' + t('green_channel') : ''),
    dl,
  ];
  if (a.state !== 'resolved') parts.push(commandForm(a, keep));
  parts.push(...evidence(a.evidence));
  parts.push(h('h2', { text: t('audit') }), auditTable(d.audit || []));
  $('detail').replaceChildren(...parts);
}
function commandForm(a, keep) {
  const name = h('input', { id: 'f-name', autocomplete: 'name', value: keep.name !== undefined ? keep.name : localStorage.getItem('pingan.person') || S.me || '' });
  const note = h('textarea', { id: 'f-note', rows: 2, placeholder: t('note_ph') });
  note.value = keep.note || '';
  const body = () => {
    const n = name.value.trim();
    if (n) localStorage.setItem('pingan.person', n);
    return { name: n, note: note.value };
  };
  return h('div', { class: 'form' },
    h('label', { for: 'f-name', text: t('your_name') }), name,
    h('label', { for: 'f-note', text: t('note') }), note,
    h('div', { class: 'buttons' },
      isAcked(a) ? null : h('button', { type: 'button', class: 'danger', id: 'f-ack', onclick: () => command(a.id, 'ack', body()) }, t('ack')),
      h('button', { type: 'button', class: 'primary', id: 'f-resolve', onclick: async () => { if (await command(a.id, 'resolve', body())) note.value = ''; } }, t('resolve'))));
}
function evidence(ev) {
  if (!ev || typeof ev !== 'object' || Array.isArray(ev)) return [];
  const rows = [];
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'samples') continue;
      const key = prefix ? prefix + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, key);
      else rows.push(h('tr', {}, h('th', { text: t('vital_key.' + k) === k ? key : t('vital_key.' + k) }), h('td', { class: 'num', text: Array.isArray(v) ? v.join(', ') : String(v) })));
    }
  };
  walk(ev, '');
  const out = [h('h2', { text: t('evidence') })];
  if (rows.length) out.push(h('table', { class: 'vitals' }, rows));
  if (Array.isArray(ev.samples) && ev.samples.length > 1 && Number(ev.hz) > 0) out.push(h('h2', { text: t('accel') }), plot(ev.samples, Number(ev.hz)));
  return out;
}
function plot(samples, hz) {
  const W = 600, H = 200, L = 40, B = 20;
  const pts = samples.filter((s) => Array.isArray(s) && s.length >= 3 && s.every((v) => Number.isFinite(Number(v))));
  if (pts.length < 2) return h('p', { text: '—' });
  let lo = Math.min(-1, ...pts.flat().map(Number)), hi = Math.max(1, ...pts.flat().map(Number));
  const x = (i) => L + (W - L - 5) * i / (pts.length - 1);
  const y = (v) => 5 + (H - B - 5) * (hi - v) / (hi - lo);
  const line = (axis, cls) => h('polyline', { svg: true, class: cls, points: pts.map((p, i) => x(i).toFixed(1) + ',' + y(Number(p[axis])).toFixed(1)).join(' ') });
  const dur = ((pts.length - 1) / hz).toFixed(1);
  const svg = h('svg', { class: 'plot', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': t('accel') },
    h('line', { svg: true, class: 'axis', x1: L, x2: W, y1: y(0), y2: y(0) }),
    h('line', { svg: true, class: 'axis', x1: L, x2: L, y1: 5, y2: H - B }),
    h('text', { svg: true, x: 2, y: y(hi) + 12 }, hi.toFixed(1)),
    h('text', { svg: true, x: 2, y: y(lo) }, lo.toFixed(1)),
    h('text', { svg: true, x: L, y: H - 3 }, '0 ' + t('s')),
    h('text', { svg: true, x: W - 60, y: H - 3 }, dur + ' ' + t('s')),
    line(0, 'x'), line(1, 'y'), line(2, 'z'));
  return h('div', {}, svg, h('div', { class: 'legend' }, h('span', { class: 'x', text: '— x' }), h('span', { class: 'y', text: '— y' }), h('span', { class: 'z', text: '— z' })));
}
// How an alert ended, from the last closing entry of its trail.
function resolutionText(audit) {
  const e = [...audit].reverse().find((x) => ['resolved', 'cancelled', 'cleared'].includes(x.action));
  if (!e) return t('state.resolved');
  return t('audit_action.' + e.action) + (e.by ? ' · ' + e.by : '');
}
// The gateway's own notes are English sentences of a known shape: shown in the person's language.
function noteOf(e) {
  if (!e.note) return '';
  if (e.via !== 'system' && e.via !== 'resident') return e.note; // a person's words
  const level = /level (\d+)/.exec(e.note);
  if (e.action === 'escalated' && level) return t('note_escalated', { n: level[1] });
  if (e.action === 'condition_cleared') return t('note_latched');
  if (e.action === 'cleared') return t('note_cleared');
  if (e.action === 'cancelled') return t('note_cancelled');
  return raw(e.note);
}
function auditTable(audit) {
  return h('table', { class: 'audit' },
    h('tr', {}, ['time', 'action', 'by', 'via', 'note'].map((k) => h('th', { text: t(k) }))),
    audit.map((e) => h('tr', {},
      h('td', { class: 'num', text: fmtTime(e.at) }),
      h('td', { text: t('audit_action.' + e.action) }),
      h('td', { text: e.by || '' }),
      h('td', { text: t('via_name.' + e.via) }),
      h('td', {}, noteOf(e)))));
}

// ---------- floor, devices, status ----------
function presence(r) {
  if (r.away === true) return h('span', { class: 'pill away', text: t('away') });
  if (r.in_bed === true) return h('span', { class: 'pill in', text: t('in_bed') });
  if (r.in_bed === false) return h('span', { class: 'pill out', text: t('out_of_bed') });
  return h('span', { class: 'pill unknown', text: t('unknown') });
}
function vitalsLine(v) {
  const items = [['hr', v.heart_rate, ''], ['spo2', v.spo2, '%'], ['rr', v.respiration_rate, '/min'], ['temp', v.temperature, '°C'], ['sbp', v.systolic, ' mmHg']]
    .filter(([, val]) => val !== null && val !== undefined)
    .map(([k, val, unit]) => h('span', {}, t(k) + ' ', h('b', { text: (Math.round(val * 10) / 10) + unit })));
  if (v.at) items.push(ago(v.at));
  return h('div', { class: 'vit' }, items);
}
function renderFloor() {
  const openBy = new Set([...S.alerts.values()].filter((a) => !isAcked(a)).flatMap((a) => [a.resident, a.location && a.location.room]).filter(Boolean));
  const floors = new Map();
  for (const r of S.residents) {
    const f = (r.location && r.location.floor) || '—', room = (r.location && r.location.room) || '—';
    if (!floors.has(f)) floors.set(f, new Map());
    const rooms = floors.get(f);
    if (!rooms.has(room)) rooms.set(room, []);
    rooms.get(room).push(r);
  }
  const out = [];
  for (const [f, rooms] of [...floors].sort()) {
    out.push(h('h2', { text: t('floor') + ' ' + f }));
    out.push(h('div', { class: 'rooms' }, [...rooms].sort().map(([room, rs]) =>
      h('div', { class: 'room' + (openBy.has(room) || rs.some((r) => openBy.has(r.id)) ? ' alarm' : ''), 'data-room': room },
        h('h3', { text: t('room') + ' ' + room }),
        rs.map((r) => h('div', { class: 'res', 'data-resident': r.id },
          h('div', { class: 'name' }, r.name, r.location && r.location.bed ? '  · ' + t('bed') + ' ' + r.location.bed : ''),
          h('div', {}, presence(r), (r.care_flags || []).map((c) => h('span', { class: 'pill flag', text: t('care_flag.' + c) }))),
          vitalsLine(r.vitals || {}),
          r.news2 ? h('div', { class: 'news ' + r.news2.response }, t('news2') + ' ', h('b', { text: r.news2.score }), ' · ' + t('response.' + r.news2.response) + (r.news2.partial ? t('partial') : '')) : null))))));
  }
  $('view-floor').replaceChildren(...(out.length ? out : [h('p', { text: t('no_residents') })]));
}
function renderStatus() {
  const s = S.status; if (!s) return;
  const pct = s.storage_max_bytes ? Math.min(100, 100 * s.storage_bytes / s.storage_max_bytes) : 0;
  const mb = (b) => (b / 1048576).toFixed(1) + ' MB';
  const kv = (k, v) => [h('dt', { text: t(k) }), h('dd', {}, v)];
  $('view-status').replaceChildren(h('h2', { text: t('tab_status') }), h('dl', { class: 'kv' },
    kv('site', s.site_name + ' (' + s.site + ')'),
    kv('live', h('span', { class: S.live ? 'health online' : 'health offline', text: t(S.live ? 'connected' : 'disconnected') })),
    kv('server_time', fmtTime(now())),
    kv('uptime', fmtDur(s.uptime_s * 1000)),
    kv('open_alerts', s.open_alerts),
    kv('readings_per_s', s.readings_per_s.toFixed(1)),
    kv('readings_total', s.readings_total),
    kv('fall_detection', h('span', { class: s.fall_detection ? 'health online' : 'health offline', text: t(s.fall_detection ? 'on' : 'off') })),
    kv('storage', h('div', {}, mb(s.storage_bytes) + ' / ' + mb(s.storage_max_bytes) + ' (' + pct.toFixed(0) + '%)',
      h('div', { class: 'meter' + (pct > 90 ? ' full' : '') }, meterFill(pct))))),
  h('h2', { text: t('uplinks') }), h('table', {},
    h('tr', {}, h('th', { text: t('id') }), h('th', { text: t('health') }), h('th', { text: t('outbox') })),
    s.uplinks.map((u) => h('tr', {}, h('td', { text: u.id }), h('td', { class: 'health ' + (u.connected ? 'online' : 'offline'), text: t(u.connected ? 'connected' : 'disconnected') }), h('td', { class: 'num', text: u.outbox_depth })))));
}
function meterFill(pct) {
  const fill = h('div');
  fill.style.width = pct.toFixed(1) + '%'; // CSSOM, allowed by the CSP (no inline style attribute)
  return fill;
}

// ---------- views, language, clock ----------
VIEWS.floor = { show() { renderFloor(); loadResidents(); } };
VIEWS.status = { show() { renderStatus(); loadStatus(); } };
function setView(v) {
  S.view = v;
  for (const name of ['alerts', ...Object.keys(VIEWS)]) $('view-' + name).hidden = name !== v;
  $('detail').hidden = v !== 'alerts' || !S.selected;
  $('main').classList.toggle('with-detail', v === 'alerts' && !!S.selected);
  document.querySelectorAll('nav button').forEach((b) => b.setAttribute('aria-current', b.dataset.view === v ? 'page' : 'false'));
  if (VIEWS[v]) VIEWS[v].show();
  renderAlerts();
}
function applyStatic() {
  document.documentElement.lang = lang();
  if (!S.me) document.title = t('app_title');
  document.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  // The site's name is data, as written in the config, in every language.
  if (S.status) { $('site-name').textContent = S.status.site_name; $('site-name').classList.add('data'); }
  renderLoginError();
  renderToast();
}
function toggleLang() {
  S.lang = lang() === 'zh-CN' ? 'en' : 'zh-CN';
  localStorage.setItem('pingan.lang', S.lang);
  applyStatic();
  if (S.me) { setView(S.view); renderDetail(); }
}
function tick() {
  const n = now();
  $('clock').textContent = new Date(n).toLocaleTimeString(lang(), { hour12: false, timeZone: siteZone() });
  document.querySelectorAll('[data-since]').forEach((el) => { el.textContent = t('ago', { d: fmtDur(n - Number(el.dataset.since)) }); });
  document.querySelectorAll('[data-until]').forEach((el) => { el.textContent = fmtDur(Number(el.dataset.until) - n); });
  const b = $('mute');
  b.textContent = S.mutedUntil > Date.now() ? t('muted', { t: new Date(S.mutedUntil).toLocaleTimeString(lang(), { hour12: false, timeZone: siteZone() }) }) : t('mute');
}

// ---------- sound: a repeating IEC 60601-1-8-like high-priority burst, made with WebAudio ----------
function initAudio() {
  try {
    if (!S.audio) S.audio = new (window.AudioContext || window.webkitAudioContext)();
    if (S.audio.state !== 'running') S.audio.resume().then(soundBanner, () => {});
  } catch (e) { S.audio = null; }
  soundBanner();
}
function highUnacked() { return [...S.alerts.values()].some((a) => a.priority === 'high' && !isAcked(a)); }
function soundBanner() { $('banner-sound').hidden = !highUnacked() || (S.audio && S.audio.state === 'running'); }
function soundLoop() { if (highUnacked() && Date.now() >= S.mutedUntil) beep(); soundBanner(); }
function beep() {
  const ctx = S.audio;
  if (!ctx || ctx.state !== 'running') return;
  const t0 = ctx.currentTime + 0.05;
  [0, 0.2, 0.4, 0.9, 1.1].forEach((dt) => {
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.type = 'square'; o.frequency.value = 880;
    g.gain.setValueAtTime(0.0001, t0 + dt);
    g.gain.exponentialRampToValueAtTime(0.25, t0 + dt + 0.015);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.14);
    o.connect(g); g.connect(ctx.destination);
    o.start(t0 + dt); o.stop(t0 + dt + 0.15);
  });
}

// ---------- boot ----------
document.addEventListener('DOMContentLoaded', async () => {
  $('login').addEventListener('submit', onLogin);
  document.querySelectorAll('.lang').forEach((b) => b.addEventListener('click', toggleLang));
  document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => setView(b.dataset.view)));
  $('logout').addEventListener('click', logout);
  $('mute').addEventListener('click', () => { S.mutedUntil = S.mutedUntil > Date.now() ? 0 : Date.now() + 120000; tick(); });
  $('banner-sound').addEventListener('click', initAudio);
  $('banner-alerts').addEventListener('click', () => setView('alerts'));
  document.addEventListener('pointerdown', () => { if (S.audio && S.audio.state !== 'running') initAudio(); }, { passive: true });
  applyStatic();
  try { setMe(await api('/me')); start(); } catch (e) { showLogin(); }
});
