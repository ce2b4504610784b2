// Report and handover views of the Pingan dashboard, for the manager and the people on shift:
// the response report per shift, alert kind and priority (GET /api/v1/report, CSV download),
// and the shift handover (GET/POST /api/v1/handover, GET /api/v1/handovers). Large type for a
// tablet; every label from I18N.
'use strict';

S.report = null; S.reportQuery = null; S.handover = null; S.handovers = []; S.handoverConfirm = false;

VIEWS.report = { show() { renderReport(); if (!S.report) quickRange('week'); } };
VIEWS.handover = { show() { renderHandover(); loadHandover(); } };

// ---------- helpers ----------
function shiftName(id, shifts) {
  const s = (shifts || []).find((x) => x.id === id);
  if (s && s.name) return s.name;
  return t('shift.' + id) === id ? id : t('shift.' + id);
}
function dur(ms) { return ms === null || ms === undefined ? '—' : fmtDur(ms); }
// The site's calendar date of `ms` (the report's days are the site's, whatever the time zone of
// the tablet that shows them).
function siteDay(ms, tz) {
  try { return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms)); } catch (e) { return ''; }
}
// Quick ranges are named: the gateway turns them into the site's local days.
function quickRange(which) { S.reportQuery = 'range=' + which; loadReport(); }
function reportQuery(extra) { return '/report?' + (S.reportQuery || 'range=week') + (extra || ''); }

// ---------- report ----------
async function loadReport() {
  renderReport();
  try { S.report = await api(reportQuery()); } catch (err) { toastError(err); }
  if (S.view === 'report') renderReport();
}
function figure(label, value, cls) {
  return h('div', { class: 'figure' + (cls ? ' ' + cls : '') }, h('span', { class: 'label', text: t(label) }), h('b', { text: String(value) }));
}
function shiftCard(r, row) {
  const s = row, ack = s.time_to_acknowledge || {}; // the figures are flattened into the row
  const def = r.shifts.find((x) => x.id === row.shift);
  return h('section', { class: 'shift-card', 'data-shift': row.shift },
    h('h3', {}, shiftName(row.shift, r.shifts), def ? '  ' + def.start + '–' + def.end : ''),
    h('div', { class: 'figures' },
      figure('alerts', s.alerts),
      figure('ack_median', dur(ack.median_ms)),
      figure('ack_p90', dur(ack.p90_ms)),
      figure('ack_max', dur(ack.max_ms)),
      figure('never_acknowledged', s.never_acknowledged, s.open ? 'bad' : ''),
      figure('escalations', s.escalations),
      figure('green_referrals', s.green_channel)));
}
const REPORT_COLS = ['alerts', 'acknowledged', 'ack_median', 'ack_p90', 'ack_max', 'resolved', 'res_median', 'res_p90', 'res_max', 'never_acknowledged', 'cancelled', 'cleared_alone', 'still_open', 'escalations', 'green_referrals'];
function statCells(s) {
  const a = s.time_to_acknowledge || {}, r = s.time_to_resolve || {};
  return [s.alerts, s.acknowledged, dur(a.median_ms), dur(a.p90_ms), dur(a.max_ms), s.resolved, dur(r.median_ms), dur(r.p90_ms), dur(r.max_ms),
    s.never_acknowledged, s.cancelled, s.cleared, s.open, s.escalations, s.green_channel].map((v) => h('td', { class: 'num', text: String(v) }));
}
function renderReport() {
  const r = S.report;
  const fromIn = h('input', { type: 'date', id: 'report-from', value: r ? siteDay(r.from, r.timezone) : '' });
  const toIn = h('input', { type: 'date', id: 'report-to', value: r ? siteDay(r.to - 1, r.timezone) : '' });
  const controls = h('div', { class: 'report-controls' },
    h('label', { for: 'report-from', text: t('from') }), fromIn,
    h('label', { for: 'report-to', text: t('to') }), toIn,
    h('button', { type: 'button', class: 'primary', id: 'report-show', onclick: () => { S.reportQuery = 'from=' + encodeURIComponent(fromIn.value) + '&to=' + encodeURIComponent(toIn.value); loadReport(); } }, t('show')),
    ['today', 'yesterday', 'week', 'month'].map((k) => h('button', { type: 'button', 'data-range': k, onclick: () => quickRange(k) }, t('range_' + k))),
    h('a', { class: 'button', id: 'report-csv', href: '/api/v1' + reportQuery('&format=csv&lang=' + lang()), download: '' }, t('download_csv')));
  const parts = [h('h2', { text: t('report_title') }), h('p', { class: 'hint', text: t('report_hint') }), controls];
  if (!r) {
    parts.push(h('p', { text: t('loading') }));
  } else {
    if (r.total.clock_anomalies) parts.push(h('p', { class: 'banner warn', text: t('clock_anomalies', { n: r.total.clock_anomalies }) }));
    parts.push(h('div', { class: 'shift-cards' }, r.by_shift.map((row) => shiftCard(r, row))));
    const head = (first) => h('tr', {}, first.map((k) => h('th', { text: t(k) })), REPORT_COLS.map((k) => h('th', { text: t(k) })));
    parts.push(h('h2', { text: t('report_by_kind') }));
    parts.push(r.by_kind.length ? h('div', { class: 'scroll' }, h('table', { class: 'report' }, head(['kind_col', 'priority_col']),
      r.by_kind.map((row) => h('tr', { 'data-kind': row.kind, 'data-priority': row.priority }, h('td', { text: t('kind.' + row.kind) }), h('td', { text: t('priority.' + row.priority) }), statCells(row))),
      h('tr', { class: 'total' }, h('td', { text: t('all') }), h('td', { text: t('all') }), statCells(r.total)))) : h('p', { class: 'empty', text: t('no_alerts_in_range') }));
    if (r.rows.length) {
      parts.push(h('h2', { text: t('report_by_shift') }));
      parts.push(h('div', { class: 'scroll' }, h('table', { class: 'report' }, head(['shift_col', 'kind_col', 'priority_col']),
        r.rows.map((row) => h('tr', {}, h('td', { text: shiftName(row.shift, r.shifts) }), h('td', { text: t('kind.' + row.kind) }), h('td', { text: t('priority.' + row.priority) }), statCells(row))))));
    }
    parts.push(h('p', { class: 'hint', text: t('report_made', { t: fmtTime(r.made_at) }) }));
  }
  $('view-report').replaceChildren(...parts);
}

// ---------- handover ----------
async function loadHandover() {
  try {
    const [cur, list] = await Promise.all([api('/handover'), api('/handovers?limit=10')]);
    if (!S.handover || S.handover.live) S.handover = Object.assign(cur, { live: true });
    S.handovers = list;
  } catch (err) { toastError(err); }
  if (S.view === 'handover') renderHandover();
}
async function handoverNow() {
  S.handoverConfirm = false;
  try {
    const hv = await api('/handover', { method: 'POST', body: personBody() });
    S.handover = hv;
    toast('handover_done');
    S.handovers = await api('/handovers?limit=10');
  } catch (err) { toastError(err); }
  renderHandover();
}
function alertLine(l) {
  const who = l.resident ? residentName(l.resident) : subjectText(l);
  const outcome = [t('outcome.' + l.outcome)];
  if (l.acknowledged_by) outcome.push(t('acknowledged_by') + ' ' + l.acknowledged_by);
  if (l.closed_by && l.closed_by !== l.acknowledged_by) outcome.push(t('closed_by') + ' ' + l.closed_by);
  return h('li', { class: 'hline ' + l.priority + ' ' + l.outcome, 'data-kind': l.kind, 'data-outcome': l.outcome },
    h('div', { class: 'title' }, h('span', { class: 'prio', text: t('priority.' + l.priority) }), t('kind.' + l.kind)),
    h('div', { class: 'who' }, who, l.location && l.location.room ? '  ·  ' + fmtLoc(l.location) : ''),
    h('div', { class: 'meta' }, fmtTime(l.raised_at), ' · ', h('b', { text: outcome.join(' · ') }), l.green_channel ? ' · ' + t('green_channel') : ''),
    l.note ? h('div', { class: 'note', text: l.note }) : null);
}
function deviceLine(d) {
  return h('li', { 'data-device': d.id }, h('b', { text: d.id }), ' · ', t('device_model.' + d.model), ' · ', fmtLoc(d.location) || (d.resident ? residentName(d.resident) : ''),
    ' · ', h('span', { class: 'health ' + d.health, text: t(d.health) }), d.battery !== null && d.battery !== undefined ? ' · ' + t('battery') + ' ' + Math.round(d.battery) + '%' : '');
}
function list(items, render, emptyKey) {
  return items.length ? h('ul', { class: 'hlist' }, items.map(render)) : h('p', { class: 'none', text: t(emptyKey) });
}
function renderHandover() {
  const hv = S.handover;
  const parts = [h('h2', { text: t('handover_title') })];
  const button = S.handoverConfirm
    ? h('div', { class: 'confirm', role: 'alertdialog' }, h('b', { text: t('handover_confirm') }),
      h('button', { type: 'button', class: 'danger', id: 'handover-run', onclick: handoverNow }, t('handover_publish')),
      h('button', { type: 'button', onclick: () => { S.handoverConfirm = false; renderHandover(); } }, t('cancel')))
    : h('button', { type: 'button', class: 'primary', id: 'handover-now', onclick: () => { S.handoverConfirm = true; renderHandover(); } }, t('handover_now'));
  parts.push(h('div', { class: 'report-controls' }, button,
    hv && !hv.live ? h('button', { type: 'button', id: 'handover-current', onclick: () => { S.handover = null; loadHandover(); } }, t('handover_current')) : null));
  if (!hv) {
    parts.push(h('p', { text: t('loading') }));
  } else {
    parts.push(h('p', { class: 'shift-head', 'data-trigger': hv.trigger },
      h('b', { text: shiftName(hv.shift.shift, S.report && S.report.shifts) + ' · ' + hv.shift.date }), ' ',
      fmtTime(hv.shift.start) + ' – ' + fmtTime(hv.shift.end), ' · ',
      hv.live ? t('handover_so_far') : t('trigger.' + hv.trigger) + (hv.by ? ' · ' + hv.by : '') + ' · ' + fmtTime(hv.made_at)));
    const counts = Object.entries(hv.counts || {});
    parts.push(h('h3', { text: t('handover_open') + ' (' + hv.open.length + ')' }), list(hv.open, alertLine, 'none_open'));
    parts.push(h('h3', { text: t('handover_events') + ' (' + hv.events.length + ')' }), list(hv.events, alertLine, 'none_events'));
    parts.push(h('h3', { text: t('handover_counts') }), counts.length
      ? h('div', { class: 'figures' }, counts.map(([k, n]) => h('div', { class: 'figure' }, h('span', { class: 'label', text: t('kind.' + k) }), h('b', { text: String(n) }))))
      : h('p', { class: 'none', text: t('none_events') }));
    parts.push(h('h3', { text: t('handover_offline') }), list(hv.devices_offline, deviceLine, 'none_devices'));
    parts.push(h('h3', { text: t('handover_battery') }), list(hv.low_battery, deviceLine, 'none_devices'));
  }
  parts.push(h('h3', { text: t('handover_recent') }), S.handovers.length ? h('table', { class: 'handovers' },
    h('tr', {}, ['time', 'shift_col', 'trigger_col', 'by'].map((k) => h('th', { text: t(k) }))),
    S.handovers.map((x) => h('tr', { class: 'pick', onclick: () => { S.handover = x; renderHandover(); } },
      h('td', { class: 'num', text: fmtTime(x.made_at) }), h('td', { text: shiftName(x.shift.shift) + ' · ' + x.shift.date }),
      h('td', { text: t('trigger.' + x.trigger) }), h('td', { text: x.by || '' })))) : h('p', { class: 'none', text: t('no_handovers') }));
  $('view-handover').replaceChildren(...parts);
}
