// Intel: browse, add, expire, delete, import and export threat indicators.
import { get, post, patch, del, api, enc } from '../api.js';
import { h, clear, when, badge, fields } from '../dom.js';

const TYPES = ['ipv4', 'ipv6', 'domain', 'url', 'email', 'phone', 'device', 'financial'];

export async function intelPage(main, ctx) {
  const w = ctx.can('intel:write');
  const msg = h('p', { class: 'flash', role: 'status', 'data-testid': 'flash' });
  const filter = h('form', { class: 'filters' },
    h('select', { name: 'type' }, ['', ...TYPES].map((t) => h('option', { value: t }, t || 'any type'))),
    h('input', { name: 'value', placeholder: 'value' }),
    h('select', { name: 'state' }, [['', 'live'], ['expired', 'expired'], ['pending', 'not yet valid'], ['all', 'all']]
      .map(([v, t]) => h('option', { value: v }, t))),
    h('button', { type: 'submit' }, 'Filter'));
  const rows = h('tbody', {});
  const more = h('button', { class: 'secondary', hidden: true }, 'Load more');
  let cursor = null;
  const load = async (reset) => {
    const p = new URLSearchParams({ limit: '100', ...fields(filter) });
    if (!reset && cursor) p.set('cursor', cursor);
    const page = await get('/v1/intel/indicators?' + p);
    if (reset) rows.replaceChildren();
    for (const i of page.items) rows.append(row(i));
    if (reset && !page.items.length) rows.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No indicators.')));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  const say = (text, bad) => { msg.className = bad ? 'flash error' : 'flash'; msg.textContent = text; };
  const row = (i) => h('tr', { 'data-indicator': i.value },
    h('td', {}, badge(i.type, 'kind')), h('td', { class: 'ua' }, i.value), h('td', {}, i.source || '–'),
    h('td', {}, (i.tags || []).join(', ')), h('td', {}, i.tlp || '–'), h('td', {}, badge(i.state || 'live')),
    h('td', {}, i.valid_until ? when(i.valid_until) : 'never'),
    h('td', {}, w && h('button', { class: 'small secondary', onclick: async () => {
      try { await patch(`/v1/intel/indicators/${enc(i.id)}`, { valid_until: new Date().toISOString() }); say(`${i.value}: expired`); await load(true); } catch (e) { say(e.message, true); }
    } }, 'Expire'), ' ', w && h('button', { class: 'small secondary', onclick: async () => {
      try { await del(`/v1/intel/indicators/${enc(i.id)}`); say(`${i.value}: deleted`); await load(true); } catch (e) { say(e.message, true); }
    } }, 'Delete')));
  filter.addEventListener('submit', (e) => { e.preventDefault(); load(true); });
  more.addEventListener('click', () => load(false));

  const add = h('form', { class: 'row', 'data-testid': 'intel-add' },
    h('select', { name: 'type' }, TYPES.map((t) => h('option', { value: t }, t))),
    h('input', { name: 'value', placeholder: 'value', required: true }),
    h('input', { name: 'tags', placeholder: 'tags, comma-separated' }),
    h('input', { name: 'valid_until', type: 'date', 'aria-label': 'valid until' }),
    h('button', { type: 'submit' }, 'Add'));
  add.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = fields(add);
    const body = { type: v.type, value: v.value, source: `console:${ctx.session.user.name}` };
    if (v.tags) body.tags = v.tags.split(',').map((t) => t.trim()).filter(Boolean);
    if (v.valid_until) body.valid_until = new Date(v.valid_until).toISOString();
    try { await post('/v1/intel/indicators', body); add.reset(); say(`${v.value}: added`); await load(true); } catch (ex) { say(ex.message, true); }
  });

  const fmt = h('select', {}, h('option', { value: 'stix' }, 'STIX 2.1 bundle'), h('option', { value: 'misp' }, 'MISP event'));
  const file = h('input', { type: 'file', accept: '.json,application/json' });
  const imp = h('button', {}, 'Import');
  imp.addEventListener('click', async () => {
    const f = file.files[0];
    if (!f) return say('choose a file to import', true);
    try {
      const r = await api('POST', `/v1/intel/import/${fmt.value}`, await f.text());
      say(`imported: ${JSON.stringify(r).slice(0, 300)}`);
      await load(true);
    } catch (e) { say(e.message, true); }
  });
  const exp = h('button', { class: 'secondary' }, 'Export');
  exp.addEventListener('click', async () => {
    try {
      const data = await get(`/v1/intel/export/${fmt.value}`);
      const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
        download: `accountguard-intel-${fmt.value}.json` });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) { say(e.message, true); }
  });

  main.append(h('h2', {}, 'Intel'), msg,
    w && h('section', { class: 'card' }, h('h3', {}, 'Add an indicator'), add),
    h('section', { class: 'card' }, h('h3', {}, 'Import and export'), h('div', { class: 'row' }, fmt, w && file, w && imp, exp)),
    h('section', { class: 'card' }, filter,
      h('div', { class: 'scroll' }, h('table', { class: 'list', 'data-testid': 'indicators' },
        h('thead', {}, h('tr', {}, ['Type', 'Value', 'Source', 'Tags', 'TLP', 'State', 'Valid until', ''].map((t) => h('th', {}, t)))), rows)), more));
  await load(true);
}
