// Cases: the queue (filters, SLA, assignment) and one case (timeline,
// evidence, notes, one-click actions).
import { get, post, patch, enc, ApiError } from '../api.js';
import { h, clear, when, ago, badge, money, fields } from '../dom.js';

const STATUSES = ['open', 'investigating', 'waiting_on_customer', 'resolved_fraud', 'resolved_not_fraud', 'closed'];
const PRIORITIES = ['critical', 'high', 'medium', 'low'];

function sla(c) {
  const s = c.sla || {};
  if (c.resolved_at || c.closed_at) return badge('done', 'ok');
  if (s.overdue) return badge('overdue', 'warn');
  const due = !c.first_action_at ? s.first_action_due_at : s.resolution_due_at;
  return h('span', { title: when(due) }, `${!c.first_action_at ? 'act' : 'resolve'} ${ago(due)}`);
}

export async function casesPage(main, ctx) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const form = h('form', { class: 'filters', 'data-testid': 'case-filters' },
    h('input', { name: 'q', placeholder: 'search id, account, title', value: q.get('q') || '' }),
    select('status', ['', ...STATUSES], q.get('status') || ''),
    select('priority', ['', ...PRIORITIES], ''),
    h('input', { name: 'assignee', placeholder: 'assignee' }),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'overdue', value: 'true' }), 'overdue only'),
    h('button', { type: 'submit' }, 'Filter'));
  const rows = h('tbody', {});
  const more = h('button', { class: 'secondary', hidden: true }, 'Load more');
  main.append(h('div', { class: 'titlebar' }, h('h2', {}, 'Cases')), form,
    h('div', { class: 'scroll' }, h('table', { class: 'list', 'data-testid': 'case-queue' },
      h('thead', {}, h('tr', {}, ['Case', 'Account', 'Type', 'Status', 'Priority', 'SLA', 'Assignee', ''].map((t) => h('th', {}, t)))),
      rows)), more);
  let cursor = null;
  const load = async (reset) => {
    const f = fields(form);
    const p = new URLSearchParams({ limit: '50' });
    for (const k of ['q', 'status', 'priority', 'assignee', 'overdue']) if (f[k]) p.set(k, f[k]);
    if (!reset && cursor) p.set('cursor', cursor);
    const page = await get('/v1/cases?' + p);
    if (reset) rows.replaceChildren();
    for (const c of page.items) rows.append(caseRow(c, ctx));
    if (reset && !page.items.length) rows.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No cases match.')));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(true); });
  more.addEventListener('click', () => load(false));
  await load(true);
}

function caseRow(c, ctx) {
  const assign = h('button', { class: 'small secondary' }, 'Assign to me');
  assign.addEventListener('click', async () => {
    await patch(`/v1/cases/${enc(c.id)}`, { assignee: ctx.session.user.name });
    assign.replaceWith(ctx.session.user.name);
  });
  return h('tr', { 'data-case': c.id },
    h('td', {}, h('a', { href: `#/cases/${enc(c.id)}` }, c.title || c.id), h('div', { class: 'muted small' }, c.id)),
    h('td', {}, h('a', { href: `#/accounts/${enc(c.account_id)}` }, c.account_id)),
    h('td', {}, c.type), h('td', {}, badge(c.status)), h('td', {}, badge(c.priority)),
    h('td', {}, sla(c)), h('td', {}, c.assignee || '–'),
    h('td', {}, c.assignee === ctx.session.user.name || !ctx.can('cases:write') ? '' : assign));
}

function select(name, options, value) {
  return h('select', { name }, options.map((o) => h('option', { value: o, selected: o === value }, o || `any ${name}`)));
}

export async function casePage(main, ctx) {
  const id = ctx.params[0];
  const msg = h('p', { class: 'flash', role: 'status', 'data-testid': 'flash' });
  const head = h('div', {}), actions = h('div', { class: 'actions' }), side = h('div', { class: 'grid2' });
  main.append(head, msg, actions, side);
  const act = (label, fn, attrs = {}) => {
    const b = h('button', { ...attrs }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      msg.className = 'flash';
      try {
        const done = await fn();
        msg.textContent = done || `${label}: done`;
        await draw();
      } catch (e) {
        msg.className = 'flash error';
        msg.textContent = `${label}: ${e.message}`;
      } finally { b.disabled = false; }
    });
    return b;
  };
  const draw = async () => {
    const [c, tl, ev, ac] = await Promise.all([
      get(`/v1/cases/${enc(id)}`), get(`/v1/cases/${enc(id)}/timeline?limit=200`),
      get(`/v1/cases/${enc(id)}/evidence`), get(`/v1/cases/${enc(id)}/actions`)]);
    const account = await get(`/v1/accounts/${enc(c.account_id)}`).catch(() => null);
    clear(head,
      h('div', { class: 'titlebar' }, h('h2', {}, c.title || c.id),
        h('span', { 'data-testid': 'case-status' }, badge(c.status)), badge(c.priority)),
      h('dl', { class: 'facts' },
        fact('Case', c.id), fact('Account', h('a', { href: `#/accounts/${enc(c.account_id)}` }, c.account_id)),
        fact('Account state', account ? badge(account.state) : '–'),
        fact('Type', c.type), fact('Source', c.source), fact('Risk', (c.risk || 0).toFixed(2)),
        fact('Money at stake', money(c.money_at_stake?.amount, c.money_at_stake?.currency)),
        fact('Assignee', c.assignee || '–'), fact('SLA', sla(c)), fact('Opened', when(c.created_at)),
        fact('Outcome', c.outcome || '–')));
    const w = ctx.can('cases:write'), acw = ctx.can('accounts:write');
    const resolved = ['resolved_fraud', 'resolved_not_fraud', 'closed'].includes(c.status);
    const status = (to, extra) => () => post(`/v1/cases/${enc(id)}/status`, { status: to, ...extra });
    clear(actions,
      w && c.assignee !== ctx.session.user.name && act('Assign to me', () => patch(`/v1/cases/${enc(id)}`, { assignee: ctx.session.user.name })),
      w && c.status === 'open' && act('Start investigating', status('investigating')),
      acw && act('Secure account', async () => {
        const r = await post(`/v1/accounts/${enc(c.account_id)}/secure`, { reason: `from case ${id}` });
        return r.complete ? 'Account secured: signed out, frozen, reset required.' : 'Secure account: some steps failed and will be retried.';
      }, { class: 'danger', 'data-testid': 'secure-account' }),
      acw && account && account.state !== 'frozen' && act('Freeze', () => post(`/v1/accounts/${enc(c.account_id)}/freeze`, { reason: `case ${id}` })),
      acw && account && account.state === 'frozen' && act('Unfreeze', () => post(`/v1/accounts/${enc(c.account_id)}/unfreeze`, { reason: `case ${id}` })),
      w && !resolved && act('Resolve: fraud', status('resolved_fraud', { outcome: 'fraud_confirmed' }), { 'data-testid': 'resolve-fraud' }),
      w && !resolved && act('Resolve: not fraud', status('resolved_not_fraud', { outcome: 'not_fraud' })),
      w && resolved && c.status !== 'closed' && act('Close', status('closed')),
      w && resolved && act('Reopen', status('open')));
    clear(side,
      h('section', { class: 'card' }, h('h3', {}, 'Timeline'),
        h('ol', { class: 'timeline', 'data-testid': 'timeline' }, tl.items.map((e) => h('li', {},
          h('span', { class: 'muted small' }, `${when(e.at)} · ${e.actor}`), h('div', {}, badge(e.kind, 'kind'), ' ', e.text))))),
      h('div', {},
        h('section', { class: 'card' }, h('h3', {}, 'Evidence'),
          h('ul', { class: 'plain', 'data-testid': 'evidence' }, ev.items.length ? ev.items.map((e) => h('li', {},
            badge(e.kind, 'kind'), ' ', e.ref || '', e.note ? ` — ${e.note}` : '',
            e.summary ? h('span', { class: 'muted small' }, ` ${e.summary.type || ''} ${e.summary.action || ''} ${e.summary.risk !== undefined ? 'risk ' + Number(e.summary.risk).toFixed(2) : ''}`) : '',
            h('div', { class: 'muted small' }, `${e.added_by} · ${when(e.added_at)}`))) : h('li', { class: 'muted' }, 'none')),
          w && evidenceForm(id, msg, draw)),
        h('section', { class: 'card' }, h('h3', {}, 'Transactions'),
          h('ul', { class: 'plain', 'data-testid': 'case-actions' }, ac.items.map((a) => h('li', {},
            badge(a.kind, 'kind'), ' ', a.target ? `${a.target.type} ${a.target.id}` : '', a.amount ? ` ${money(a.amount, a.currency)}` : '', ' ', badge(a.status)))),
          w && txForm(id, msg, draw)),
        w && h('section', { class: 'card' }, h('h3', {}, 'Note'), noteForm(id, msg, draw))));
  };
  await draw();
}

function fact(k, v) { return [h('dt', {}, k), h('dd', {}, v)]; }

function txForm(id, msg, redraw) {
  const f = h('form', { class: 'stack', 'data-testid': 'tx-form' },
    h('div', { class: 'row' },
      h('select', { name: 'kind' }, ['mark_unauthorized', 'reverse', 'cancel_order', 'refund'].map((k) => h('option', { value: k }, k))),
      h('select', { name: 'type' }, ['transaction', 'order', 'transfer', 'payout', 'subscription'].map((k) => h('option', { value: k }, k)))),
    h('div', { class: 'row' },
      h('input', { name: 'id', placeholder: 'transaction or order id', required: true }),
      h('input', { name: 'amount', placeholder: 'amount (minor units)', inputmode: 'numeric' }),
      h('input', { name: 'currency', placeholder: 'EUR', maxlength: 3 })),
    h('button', { type: 'submit' }, 'Record'));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = fields(f);
    const body = { kind: v.kind, target: { type: v.type, id: v.id } };
    if (v.amount) body.amount = Number(v.amount);
    if (v.currency) body.currency = v.currency.toUpperCase();
    try {
      await post(`/v1/cases/${enc(id)}/actions`, body);
      msg.className = 'flash';
      msg.textContent = `${v.kind} ${v.id}: recorded`;
      await redraw();
    } catch (ex) {
      msg.className = 'flash error';
      msg.textContent = ex instanceof ApiError ? `${v.kind}: ${ex.message}` : String(ex);
    }
  });
  return f;
}

function noteForm(id, msg, redraw) {
  const f = h('form', { class: 'stack', 'data-testid': 'note-form' },
    h('textarea', { name: 'text', rows: 3, required: true, placeholder: 'internal note' }),
    h('button', { type: 'submit' }, 'Add note'));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`/v1/cases/${enc(id)}/notes`, { text: fields(f).text });
      f.reset();
      await redraw();
    } catch (ex) {
      msg.className = 'flash error';
      msg.textContent = ex.message;
    }
  });
  return f;
}

function evidenceForm(id, msg, redraw) {
  const f = h('form', { class: 'row', 'data-testid': 'evidence-form' },
    h('select', { name: 'kind' }, ['event', 'session', 'device', 'order', 'transaction', 'message'].map((k) => h('option', { value: k }, k))),
    h('input', { name: 'ref', placeholder: 'id', required: true }),
    h('input', { name: 'note', placeholder: 'note (optional)' }),
    h('button', { type: 'submit' }, 'Link'));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`/v1/cases/${enc(id)}/evidence`, fields(f));
      f.reset();
      await redraw();
    } catch (ex) {
      msg.className = 'flash error';
      msg.textContent = `Evidence: ${ex.message}`;
    }
  });
  return f;
}
