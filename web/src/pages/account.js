// Account: state and freezes, devices and sessions (revoke), login history
// with location and decision, risk over time.
import { get, post, del, enc } from '../api.js';
import { h, clear, when, badge, fields } from '../dom.js';
import { riskLine } from '../charts.js';

export async function accountSearch(main) {
  const f = h('form', { class: 'filters' },
    h('input', { name: 'id', placeholder: 'account id, e.g. u_alice', required: true }),
    h('button', { type: 'submit' }, 'Open'));
  f.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/accounts/${enc(fields(f).id)}`; });
  main.append(h('h2', {}, 'Accounts'), f);
}

// Country of a login: the device's country, or the "new_country" reason's "A -> B".
function country(ev, devices) {
  const d = devices.get(ev.event?.context?.device_id);
  if (d && d.country) return d.country;
  const r = (ev.decision?.reasons || []).find((x) => x.code === 'new_country');
  return r ? r.detail.split('->').pop().trim() : '';
}

export async function accountPage(main, ctx) {
  const id = ctx.params[0];
  const msg = h('p', { class: 'flash', role: 'status', 'data-testid': 'flash' });
  const body = h('div', {});
  main.append(msg, body);
  const run = (label, fn) => async () => {
    try {
      msg.className = 'flash';
      msg.textContent = (await fn()) || `${label}: done`;
      await draw();
    } catch (e) {
      msg.className = 'flash error';
      msg.textContent = `${label}: ${e.message}`;
    }
  };
  const draw = async () => {
    const [acct, devs, sess, evs] = await Promise.all([
      get(`/v1/accounts/${enc(id)}`),
      get(`/v1/accounts/${enc(id)}/devices`).catch(() => ({ items: [] })),
      get(`/v1/accounts/${enc(id)}/sessions`).catch(() => ({ items: [] })),
      get(`/v1/accounts/${enc(id)}/events?limit=200`).catch(() => ({ items: [] }))]);
    const devices = new Map(devs.items.map((d) => [d.device_id, d]));
    const logins = evs.items.filter((e) => e.type.startsWith('login.'));
    const points = evs.items.slice().reverse().map((e) => ({ x: new Date(e.received_at), y: e.decision?.risk || 0, action: e.decision?.action }));
    const w = ctx.can('accounts:write');
    clear(body,
      h('div', { class: 'titlebar' }, h('h2', {}, `Account ${acct.id}`),
        h('span', { 'data-testid': 'account-state' }, badge(acct.state)), badge(acct.role, 'kind')),
      h('div', { class: 'actions' },
        w && h('button', { class: 'danger', onclick: run('Secure account', async () => {
          const r = await post(`/v1/accounts/${enc(id)}/secure`, { reason: 'analyst from the console' });
          return r.complete ? 'Account secured.' : 'Some steps failed and will be retried.';
        }), 'data-testid': 'secure-account' }, 'Secure account'),
        w && acct.state !== 'frozen' && h('button', { onclick: run('Freeze', () => post(`/v1/accounts/${enc(id)}/freeze`, { reason: 'analyst from the console' })) }, 'Freeze'),
        w && acct.state === 'frozen' && h('button', { onclick: run('Unfreeze', () => post(`/v1/accounts/${enc(id)}/unfreeze`, { reason: 'analyst from the console' })) }, 'Unfreeze'),
        w && sess.items.length > 0 && h('button', { onclick: run('Sign out everywhere', () => post(`/v1/accounts/${enc(id)}/sessions/revoke_all`, {})) }, 'Sign out everywhere')),
      acct.state === 'frozen' && h('p', { class: 'warnbox' }, `Frozen by ${acct.frozen_by || '?'}: ${acct.frozen_reason || ''}`),
      h('div', { class: 'grid2' },
        h('section', { class: 'card' }, h('h3', {}, 'Risk over time'), riskLine(points)),
        h('section', { class: 'card' }, h('h3', {}, 'State changes'),
          h('ul', { class: 'plain', 'data-testid': 'freezes' }, (acct.history || []).length ? acct.history.map((l) => h('li', {},
            badge(l.action, 'kind'), ` ${when(l.at)} by ${l.actor}`, l.reason ? ` — ${l.reason}` : '')) : h('li', { class: 'muted' }, 'none')))),
      h('section', { class: 'card' }, h('h3', {}, 'Sessions'),
        table(['Session', 'Device', 'IP', 'Created', 'Last seen', ''], sess.items.map((s) => [
          s.id || s.session_id, s.device_id || '–', s.ip || '–', when(s.created_at), when(s.last_seen_at || s.last_seen),
          w ? h('button', { class: 'small secondary', onclick: run('Revoke', () => del(`/v1/accounts/${enc(id)}/sessions/${enc(s.id || s.session_id)}`)) }, 'Revoke') : '']), 'sessions')),
      h('section', { class: 'card' }, h('h3', {}, 'Devices'),
        table(['Device', 'Country', 'IP', 'User agent', 'Trusted', 'Last seen', ''], devs.items.map((d) => [
          d.device_id, d.country || '–', d.ip || '–', h('span', { class: 'ua' }, d.user_agent || '–'), d.trusted ? 'yes' : 'no', when(d.last_seen),
          w ? h('button', { class: 'small secondary', onclick: run('Forget device', () => del(`/v1/accounts/${enc(id)}/devices/${enc(d.device_id)}`)) }, 'Forget') : '']), 'devices')),
      h('section', { class: 'card' }, h('h3', {}, 'Login history'),
        table(['When', 'Event', 'IP', 'Location', 'Device', 'Decision', 'Risk', 'Reasons'], logins.map((e) => [
          when(e.occurred_at), e.type, e.event?.context?.ip || '–', country(e, devices) || '–', e.event?.context?.device_id || '–',
          badge(e.decision?.action || '?'), (e.decision?.risk || 0).toFixed(2),
          h('span', { class: 'small' }, (e.decision?.reasons || []).slice(0, 4).map((r) => r.code).join(', '))]), 'logins')));
  };
  await draw();
}

function table(head, rows, testid) {
  return h('div', { class: 'scroll' }, h('table', { class: 'list', 'data-testid': testid },
    h('thead', {}, h('tr', {}, head.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: head.length, class: 'muted' }, 'none')))));
}
