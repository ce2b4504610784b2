// Devices view of the Pingan dashboard: health, battery, last seen, and the profile commands of
// Modbus devices (silence a sounder, reset a detector) as buttons. A command asks for
// confirmation in the row first; the outcome is shown in the row and a toast, and every command
// run (from here or over MQTT) is listed under "Device commands" with who ran it.
'use strict';

S.confirm = null; // { device, command } awaiting confirmation
S.running = null; // the same while the device answers
S.lastAction = {}; // device id → its latest record
S.actions = [];

VIEWS.devices = { show() { renderDevices(); loadDevices(); loadActions(); } };

async function loadActions() {
  try { S.actions = await api('/actions?limit=20'); if (S.view === 'devices') renderDevices(); } catch (e) { /* keep the last */ }
}
function commandName(c) { return t('command.' + c) === c ? c : t('command.' + c); }
function commandButtons(d) {
  if (!d.commands || !d.commands.length) return [];
  const busy = S.running && S.running.device === d.id;
  if (S.confirm && S.confirm.device === d.id) {
    const c = S.confirm.command;
    return [h('div', { class: 'confirm', role: 'alertdialog' },
      h('b', { text: t('command_confirm', { cmd: commandName(c), dev: d.id }) }),
      h('button', { type: 'button', class: 'danger', 'data-run': c, onclick: () => runCommand(d.id, c) }, t('run')),
      h('button', { type: 'button', 'data-cancel': c, onclick: () => { S.confirm = null; renderDevices(); } }, t('cancel')))];
  }
  return d.commands.map((c) => h('button', {
    type: 'button', class: 'cmd', 'data-command': c.name, disabled: busy,
    title: t('command_desc.' + c.name) === c.name ? c.description || '' : t('command_desc.' + c.name),
    onclick: () => { S.confirm = { device: d.id, command: c.name }; renderDevices(); },
  }, commandName(c.name)));
}
function outcome(r) {
  if (!r) return null;
  return h('div', { class: 'outcome ' + (r.ok ? 'ok' : 'failed') },
    t(r.ok ? 'command_ok' : 'command_failed', { cmd: commandName(r.command) }), ' · ', r.by, ' · ', ago(r.at),
    r.error ? [' · ', raw(r.error)] : null);
}
async function runCommand(device, command) {
  S.confirm = null; S.running = { device, command };
  renderDevices();
  try {
    const r = await api('/devices/' + encodeURIComponent(device) + '/commands/' + encodeURIComponent(command), { method: 'POST', body: personBody() });
    S.lastAction[device] = r;
    toast(r.ok ? 'command_ok' : 'command_failed', { cmd: commandName(command) });
  } catch (err) { toastError(err); } finally { S.running = null; }
  renderDevices();
  loadActions();
}
function renderDevices() {
  const rows = [...S.devices].sort((a, b) => (a.health === 'online') - (b.health === 'online') || a.id.localeCompare(b.id)).map((d) => h('tr', { 'data-device': d.id },
    h('td', { text: d.id }),
    h('td', { text: t('device_model.' + d.model) }),
    h('td', { text: d.resident ? residentName(d.resident) : '' }),
    h('td', { text: fmtLoc(d.location) }),
    h('td', { class: 'health ' + d.health, text: t(d.health) }),
    h('td', { class: 'num' + (d.battery !== null && d.battery !== undefined && d.battery < 20 ? ' lowbat' : ''), text: d.battery === null || d.battery === undefined ? '—' : Math.round(d.battery) + '%' }),
    h('td', {}, d.last_seen ? ago(d.last_seen) : '—'),
    h('td', { class: 'commands' }, h('div', { class: 'buttons' }, commandButtons(d)), outcome(S.lastAction[d.id]))));
  const log = S.actions.filter((r) => r.action === 'device_command').map((r) => h('tr', { class: r.ok ? '' : 'failed' },
    h('td', { class: 'num', text: fmtTime(r.at) }),
    h('td', { text: r.subject.id }),
    h('td', { text: commandName(r.command) }),
    h('td', { text: r.by }),
    h('td', { text: t('via_name.' + r.via) }),
    h('td', {}, t(r.ok ? 'result_ok' : 'result_failed'), r.error ? [' · ', raw(r.error)] : null)));
  $('view-devices').replaceChildren(h('h2', { text: t('tab_devices') }), h('div', { class: 'scroll' }, h('table', {},
    h('tr', {}, ['device', 'model', 'resident', 'location', 'health', 'battery', 'last_seen', 'commands'].map((k) => h('th', { text: t(k) }))), rows)),
  h('h2', { text: t('device_actions') }),
  log.length ? h('table', { class: 'actions-log' },
    h('tr', {}, ['time', 'device', 'command_col', 'by', 'via', 'result'].map((k) => h('th', { text: t(k) }))), log)
    : h('p', { text: t('no_device_actions') }));
}
