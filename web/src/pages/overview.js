// Overview: decisions per minute by action, the top reasons and rules,
// cases open and overdue, alerts — refreshed every 5 seconds.
import { get } from '../api.js';
import { h, clear } from '../dom.js';
import { stackedBars, hbars } from '../charts.js';

const ACTIONS = ['allow', 'review', 'challenge', 'deny'];

export async function overview(main, ctx) {
  const body = h('div', { class: 'grid', 'data-testid': 'overview' });
  const stamp = h('span', { class: 'muted' });
  main.append(h('div', { class: 'titlebar' }, h('h2', {}, 'Overview'), stamp), body);
  const draw = async () => {
    const o = await get('/v1/stats/overview?minutes=60');
    const minute = (iso) => iso.slice(11, 16);
    clear(body,
      tile('Decisions (60 min)', o.decisions.total, 'decisions-total'),
      tile('Open cases', o.cases.open, 'cases-open', '#/cases?status=open'),
      tile('Overdue cases', o.cases.overdue, 'cases-overdue', null, o.cases.overdue ? 'warn' : ''),
      tile('Unassigned', o.cases.unassigned, 'cases-unassigned'),
      tile('Alerts delivered', o.alerts.by_state.delivered || 0, 'alerts-delivered'),
      tile('Alerts failed', o.alerts.by_state.dead || 0, 'alerts-dead', null, o.alerts.by_state.dead ? 'warn' : ''),
      h('section', { class: 'card wide' }, h('h3', {}, 'Decisions per minute'),
        stackedBars(o.decisions.per_minute.map((r) => ({ label: minute(r.minute), values: r })), ACTIONS,
          { title: 'decisions per minute by action' })),
      h('section', { class: 'card' }, h('h3', {}, 'Top reasons'),
        hbars(o.top_reasons.map((r) => ({ label: r.code, count: r.count })))),
      h('section', { class: 'card' }, h('h3', {}, 'Top rules'),
        hbars(o.top_rules.map((r) => ({ label: r.rule, count: r.count })))),
      h('section', { class: 'card wide' }, h('h3', {}, 'Alerts delivered per minute'),
        stackedBars(o.alerts.delivered_per_minute.map((r) => ({ label: minute(r.minute), values: { delivered: r.count } })),
          ['delivered'], { title: 'alerts delivered per minute' })));
    stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => {}), 5000);
  ctx.onCleanup(() => clearInterval(timer));
}

function tile(label, value, testid, href, cls) {
  const inner = [h('span', { class: 'label' }, label), h('strong', { 'data-testid': testid }, String(value))];
  return h('section', { class: `card tile ${cls || ''}` }, href ? h('a', { href }, inner) : inner);
}
