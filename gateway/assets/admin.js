// The admin's pages of the Pingan dashboard (shown to admin accounts only; the API checks too):
// care records — a resident's care flags and the escalation (who is told at which level, and
// after how long), changed over the site file and reset to it (GET /api/v1/care, POST
// /api/v1/care/…) — and staff accounts (GET/POST /api/v1/accounts …): add, disable, enable, new
// password, role. Disabling and a new password ask for confirmation first; a generated password
// is shown once. Every change is listed below with who made it.
'use strict';

const FLAGS = ['fall_risk', 'dementia', 'bed_exit_watch', 'lives_alone', 'hypercapnic', 'supplemental_oxygen'];
S.care = null; S.careEdit = {}; S.escEdit = null; S.adminLog = [];
S.staff = []; S.staffConfirm = null; S.secret = null;

VIEWS.care = { show() { renderCare(); loadCare(); } };
VIEWS.staff = { show() { renderStaff(); loadStaff(); } };

async function loadAdminLog() {
  try { S.adminLog = await api('/actions?limit=50'); } catch (e) { /* keep the last */ }
}
async function loadCare() {
  try { S.care = await api('/care'); await loadAdminLog(); } catch (err) { toastError(err); }
  if (S.view === 'care') renderCare();
}
async function loadStaff() {
  try { S.staff = await api('/accounts'); await loadAdminLog(); } catch (err) { toastError(err); }
  if (S.view === 'staff') renderStaff();
}
function flagList(flags) { return flags && flags.length ? flags.map((f) => t('care_flag.' + f)).join(lang() === 'zh-CN' ? '、' : ', ') : t('none_flags'); }
function data(text) { return h('span', { class: 'data', text }); }
function logTable(cls, rows) {
  if (!rows.length) return h('p', { class: 'empty', text: t('no_changes') });
  return h('table', { class: cls }, h('tr', {}, ['time', 'subject', 'change', 'by', 'via'].map((k) => h('th', { text: t(k) }))), rows);
}
function logRow(r, subject, change) {
  return h('tr', {}, h('td', { class: 'num', text: fmtTime(r.at) }), h('td', {}, subject), h('td', {}, change),
    h('td', { text: r.by }), h('td', { text: t('via_name.' + r.via) }));
}

// ---------- care records ----------
function flagsOf(r) { return S.careEdit[r.id] || r.care_flags; }
function toggleFlag(r, f) {
  const cur = new Set(flagsOf(r));
  if (cur.has(f)) cur.delete(f); else cur.add(f);
  S.careEdit[r.id] = FLAGS.filter((x) => cur.has(x));
  renderCare();
}
async function saveFlags(r, reset) {
  try {
    const path = '/care/residents/' + encodeURIComponent(r.id) + (reset ? '/reset' : '');
    await api(path, { method: 'POST', body: reset ? personBody() : { ...personBody(), care_flags: flagsOf(r) } });
    delete S.careEdit[r.id];
    toast(reset ? 'care_reset_done' : 'care_saved', { who: r.name });
  } catch (err) { toastError(err); }
  loadCare();
}
function residentRow(r) {
  const edited = !!S.careEdit[r.id];
  const on = new Set(flagsOf(r));
  return h('tr', { 'data-resident': r.id },
    h('td', { text: r.name }),
    h('td', { text: fmtLoc(r.location) }),
    h('td', { class: 'flags' }, FLAGS.map((f) => h('button', {
      type: 'button', class: 'flag', 'data-flag': f, 'aria-pressed': on.has(f) ? 'true' : 'false', onclick: () => toggleFlag(r, f),
    }, t('care_flag.' + f)))),
    h('td', {}, h('span', { class: 'pill' + (r.changed ? ' changed' : ''), text: t(r.changed ? 'care_changed' : 'care_site') })),
    h('td', { class: 'buttons' },
      h('button', { type: 'button', class: 'primary save', disabled: !edited, onclick: () => saveFlags(r, false) }, t('save')),
      r.changed ? h('button', { type: 'button', class: 'reset', onclick: () => saveFlags(r, true) }, t('reset_site')) : null));
}
function escPolicies() { return S.escEdit || (S.care ? S.care.escalation.policies : []); }
function editEsc(fn) {
  S.escEdit = JSON.parse(JSON.stringify(escPolicies()));
  fn(S.escEdit);
  renderCare();
}
async function saveEsc(reset) {
  try {
    await api(reset ? '/care/escalation/reset' : '/care/escalation', { method: 'POST', body: reset ? personBody() : { ...personBody(), policies: escPolicies() } });
    S.escEdit = null;
    toast(reset ? 'esc_reset_done' : 'esc_saved');
  } catch (err) { toastError(err); }
  loadCare();
}
function levelRow(pi, li, level, last) {
  const contacts = S.care.escalation.contacts;
  return h('tr', { 'data-level': pi + '-' + li },
    h('td', { text: t('level', { n: li + 1 }) }),
    h('td', { class: 'contacts' }, contacts.map((c) => h('label', { class: 'contact data' },
      h('input', { type: 'checkbox', 'data-contact': c.id, checked: level.contacts.includes(c.id),
        onchange: (e) => editEsc((p) => { const l = p[pi].levels[li]; l.contacts = e.target.checked ? [...l.contacts, c.id] : l.contacts.filter((x) => x !== c.id); }) }),
      c.name))),
    h('td', {}, last ? h('span', { class: 'hint', text: t('last_level') }) : h('input', {
      class: 'timeout', value: level.timeout || '', placeholder: t('timeout_ph'), 'aria-label': t('timeout_col'),
      onchange: (e) => editEsc((p) => { p[pi].levels[li].timeout = e.target.value.trim() || null; }),
    })),
    h('td', {}, li > 0 ? h('button', { type: 'button', class: 'remove-level', onclick: () => editEsc((p) => { p[pi].levels.splice(li, 1); }) }, t('remove_level')) : null));
}
function policyBlock(p, pi) {
  const kinds = p.kinds && p.kinds.length ? p.kinds.map((k) => t('kind.' + k)).join(lang() === 'zh-CN' ? '、' : ', ') : t('esc_all_kinds');
  return h('div', { class: 'policy', 'data-policy': pi },
    h('h3', {}, data(p.name), ' · ', kinds),
    h('table', { class: 'levels' }, h('tr', {}, ['level_col', 'contacts_col', 'timeout_col', 'commands'].map((k) => h('th', { text: t(k) }))),
      p.levels.map((l, li) => levelRow(pi, li, l, li === p.levels.length - 1))),
    h('button', { type: 'button', class: 'add-level', onclick: () => editEsc((x) => {
      const ls = x[pi].levels; const prev = ls[ls.length - 1];
      if (!prev.timeout) prev.timeout = '5m';
      ls.push({ contacts: [], timeout: null });
    }) }, t('add_level')));
}
function renderCare() {
  const el = $('view-care');
  if (!S.care) { el.replaceChildren(h('h2', { text: t('tab_care') }), h('p', { class: 'empty', text: t('loading') })); return; }
  const esc = S.care.escalation;
  const log = S.adminLog.filter((r) => r.action === 'care_flags' || r.action === 'escalation').map((r) => logRow(r,
    r.action === 'care_flags' ? residentName(r.subject.id) : t('esc_title'),
    r.reset ? t('reset_done') : r.action === 'care_flags' ? flagList(r.before) + ' → ' + flagList(r.after) : t('esc_changed')));
  el.replaceChildren(
    h('h2', { text: t('tab_care') }),
    h('p', { class: 'hint', text: t('care_hint') }),
    h('div', { class: 'scroll' }, h('table', { class: 'care' },
      h('tr', {}, ['resident', 'location', 'care_flags_col', 'state_col', 'commands'].map((k) => h('th', { text: t(k) }))),
      S.care.residents.map(residentRow))),
    h('h2', {}, t('esc_title'), ' ', h('span', { class: 'pill' + (esc.changed ? ' changed' : ''), text: t(esc.changed ? 'care_changed' : 'care_site') })),
    h('p', { class: 'hint', text: t('esc_hint') }),
    h('div', { class: 'policies' }, escPolicies().length ? escPolicies().map(policyBlock) : h('p', { class: 'empty', text: t('esc_none') })),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'primary', id: 'esc-save', disabled: !S.escEdit, onclick: () => saveEsc(false) }, t('save')),
      esc.changed ? h('button', { type: 'button', id: 'esc-reset', onclick: () => saveEsc(true) }, t('reset_site')) : null),
    h('h2', { text: t('care_log') }),
    logTable('care-log', log));
}

// ---------- staff accounts ----------
// `done` is the toast's key (its texts are looked up again when the language changes).
async function staffChange(user, what, body, done) {
  S.staffConfirm = null;
  try {
    const path = what === 'add' ? '/accounts' : '/accounts/' + encodeURIComponent(user) + '/' + what;
    const r = await api(path, { method: 'POST', body: { ...personBody(), ...body } });
    S.secret = r.password ? { user: r.account.user, password: r.password } : null;
    toast(done, { user: r.account.user });
  } catch (err) { toastError(err); }
  loadStaff();
}
function addAccount(e) {
  e.preventDefault();
  const user = $('staff-user').value.trim();
  if (!user) return;
  staffChange(user, 'add', { user, role: $('staff-role').value }, 'account_added');
}
function staffButtons(a) {
  const c = S.staffConfirm;
  if (c && c.user === a.user) {
    return h('div', { class: 'confirm', role: 'alertdialog' },
      h('b', { text: t(c.what === 'disable' ? 'confirm_disable' : 'confirm_password', { user: a.user }) }),
      h('button', { type: 'button', class: 'danger', 'data-run': c.what, onclick: () => (c.what === 'disable'
        ? staffChange(a.user, 'disable', {}, 'account_disabled') : staffChange(a.user, 'password', {}, 'password_done')) }, t('run')),
      h('button', { type: 'button', 'data-cancel': c.what, onclick: () => { S.staffConfirm = null; renderStaff(); } }, t('cancel')));
  }
  const other = a.role === 'admin' ? 'nurse' : 'admin';
  const ask = (what) => () => { S.staffConfirm = { user: a.user, what }; renderStaff(); };
  return h('div', { class: 'buttons' },
    h('button', { type: 'button', 'data-role': other, onclick: () => staffChange(a.user, 'role', { role: other }, other === 'admin' ? 'role_admin_done' : 'role_nurse_done') }, t(other === 'admin' ? 'make_admin' : 'make_nurse')),
    a.disabled
      ? h('button', { type: 'button', 'data-enable': a.user, onclick: () => staffChange(a.user, 'enable', {}, 'account_enabled') }, t('enable'))
      : h('button', { type: 'button', class: 'danger', 'data-disable': a.user, onclick: ask('disable') }, t('disable')),
    h('button', { type: 'button', 'data-password': a.user, onclick: ask('password') }, t('new_password')));
}
function accountChange(r) {
  if (r.action === 'account_added') return t('acct.account_added') + ' (' + t('role.' + r.role) + ')';
  if (r.action === 'role_changed') return t('role.' + r.before) + ' → ' + t('role.' + r.after);
  return t('acct.' + r.action);
}
function renderStaff() {
  const rows = S.staff.map((a) => h('tr', { 'data-user': a.user, class: a.disabled ? 'disabled' : '' },
    h('td', { text: a.user }),
    h('td', { text: t('role.' + a.role) }),
    h('td', {}, h('span', { class: 'pill', text: t(a.disabled ? 'disabled' : 'enabled') })),
    h('td', { class: 'num', text: fmtTime(a.password_set_at) }),
    h('td', { class: 'commands' }, staffButtons(a))));
  const log = S.adminLog.filter((r) => r.subject.type === 'account').map((r) => logRow(r, r.subject.id, accountChange(r)));
  $('view-staff').replaceChildren(
    h('h2', { text: t('tab_staff') }),
    h('p', { class: 'hint', text: t('staff_hint') }),
    h('form', { id: 'staff-add', class: 'row', onsubmit: addAccount },
      h('label', { for: 'staff-user', text: t('user') }), h('input', { id: 'staff-user', autocomplete: 'off', required: true }),
      h('label', { for: 'staff-role', text: t('role_col') }),
      h('select', { id: 'staff-role' }, ['nurse', 'admin'].map((r) => h('option', { value: r }, t('role.' + r)))),
      h('button', { type: 'submit', class: 'primary', id: 'staff-add-btn' }, t('add_account'))),
    h('div', { class: 'secrets' }, S.secret ? h('div', { class: 'secret', role: 'alert' }, h('b', { text: t('password_once', { user: S.secret.user }) }), ' ', h('code', { class: 'raw', text: S.secret.password })) : null),
    h('div', { class: 'scroll' }, h('table', { class: 'staff' },
      h('tr', {}, ['user', 'role_col', 'state_col', 'password_set', 'commands'].map((k) => h('th', { text: t(k) }))), rows)),
    h('h2', { text: t('staff_log') }),
    logTable('staff-log', log));
}
