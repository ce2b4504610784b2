// Static check of the dashboard's texts: every key the scripts look up with t('…'), every
// data-t of index.html and every value key the scripts build ('kind.' + a.kind and the like,
// for the values the API can send) exists in both languages of i18n.js, and both languages have
// the same keys. Prints `I18N_OK n` or the missing keys; exit 1 when any is missing.
//   node tests/browser/i18n-check.mjs [ASSETS_DIR]

import { readFileSync } from 'node:fs';

const dir = process.argv[2] || new URL('../../gateway/assets/', import.meta.url).pathname;
const read = (f) => readFileSync(dir + '/' + f, 'utf8');
const window = {};
new Function('window', read('i18n.js'))(window);
const langs = window.I18N;
const flat = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? flat(v, p + k + '.') : [p + k]));
const keys = Object.fromEntries(Object.entries(langs).map(([l, d]) => [l, new Set(flat(d))]));
const used = new Set();
for (const f of ['app.js', 'devices.js', 'shift.js', 'admin.js']) {
  // Whole keys; a key that ends in '.' or '_' is a prefix completed by a value (below).
  for (const m of read(f).matchAll(/\bt\('([a-z0-9_.]+)'/g)) if (!/[._]$/.test(m[1])) used.add(m[1]);
  for (const m of read(f).matchAll(/\btoast\('([a-z0-9_]+)'/g)) if (m[1] !== 'error_of') used.add(m[1]);
  // admin.js names its toasts in the last arguments of staffChange(…) and saveFlags/saveEsc.
  for (const m of read(f).matchAll(/staffChange\([^;]*?'([a-z_]+_done|account_[a-z]+)'/g)) used.add(m[1]);
  for (const m of read(f).matchAll(/'(role_(?:admin|nurse)_done|care_(?:saved|reset_done)|esc_(?:saved|reset_done))'/g)) used.add(m[1]);
}
for (const m of read('index.html').matchAll(/data-t="([a-z0-9_]+)"/g)) used.add(m[1]);
// Values the API sends, looked up as 'group.' + value.
const values = {
  kind: ['sos', 'fall', 'vitals', 'bed_exit', 'out_of_bed_too_long', 'inactivity', 'wandering', 'smoke', 'gas', 'water_leak', 'environment', 'device_offline', 'low_battery', 'technical'],
  priority: ['high', 'medium', 'low'],
  state: ['raised', 'delivered', 'escalated', 'acknowledged', 'resolved'],
  audit_action: ['raised', 'updated', 'delivered', 'escalated', 'acknowledged', 'condition_cleared', 'resolved', 'cancelled', 'cleared'],
  via_name: ['system', 'resident', 'mqtt', 'http', 'cli'],
  outcome: ['open', 'acknowledged', 'resolved', 'cancelled', 'cleared'],
  trigger: ['shift_end', 'on_demand'],
  shift: ['day', 'evening', 'night'],
  err: ['unauthorized', 'csrf', 'bad_credentials', 'throttled', 'bad_request', 'unsupported_media_type', 'too_large', 'unprocessable', 'not_found', 'unknown_alert', 'already_acknowledged', 'missing_person', 'invalid_name', 'weak_password', 'internal', 'unavailable', 'method_not_allowed', 'network', 'other', 'forbidden', 'user_exists', 'unknown_user', 'last_admin', 'unknown_resident', 'invalid_escalation'],
  role: ['nurse', 'admin'],
  acct: ['account_added', 'account_disabled', 'account_enabled', 'password_reset', 'role_changed'],
  device_model: ['wristband', 'pendant', 'bed_mat', 'room_sensor', 'door_contact', 'smoke_detector', 'gas_detector', 'water_leak', 'call_panel', 'beacon', 'bp_cuff', 'oximeter', 'thermometer', 'scale'],
  care_flag: ['fall_risk', 'dementia', 'bed_exit_watch', 'lives_alone', 'hypercapnic', 'supplemental_oxygen'],
  response: ['routine', 'ward', 'urgent', 'emergency'],
  command: ['silence', 'reset', 'lamp_reset'],
};
for (const [g, vs] of Object.entries(values)) for (const v of vs) used.add(g + '.' + v);
// Keys in lists: table heads (`[...].map((k) => h('th', { text: t(k) }))`, `head([...])`,
// REPORT_COLS) and figures (`figure('key', …)`).
const list = (text) => [...text.matchAll(/'([a-z0-9_]+)'/g)].map((k) => k[1]);
for (const f of ['app.js', 'devices.js', 'shift.js', 'admin.js']) {
  const src = read(f);
  for (const m of src.matchAll(/\[([^\]]+)\]\.map\(\(k\) => h\('th'/g)) list(m[1]).forEach((k) => used.add(k));
  for (const m of src.matchAll(/\bhead\(\[([^\]]+)\]\)/g)) list(m[1]).forEach((k) => used.add(k));
  for (const m of src.matchAll(/REPORT_COLS = \[([^\]]+)\]/g)) list(m[1]).forEach((k) => used.add(k));
  for (const m of src.matchAll(/figure\('([a-z0-9_]+)'/g)) used.add(m[1]);
}
for (const k of ['today', 'yesterday', 'week', 'month']) used.add('range_' + k);
const problems = [];
for (const [l, set] of Object.entries(keys)) {
  for (const k of used) if (!set.has(k)) problems.push(`${l}: missing ${k}`);
  for (const [l2, set2] of Object.entries(keys)) for (const k of set) if (!set2.has(k)) problems.push(`${l2}: missing ${k} (present in ${l})`);
}
if (problems.length) {
  console.log([...new Set(problems)].join('\n'));
  process.exit(1);
}
console.log('I18N_OK ' + used.size);
