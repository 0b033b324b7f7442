// Messages: paste or upload an email or SMS and see the verdict, with the
// evidence highlighted in the text.
import { post } from '../api.js';
import { h, clear, badge } from '../dom.js';

export async function messagesPage(main, ctx) {
  const kind = h('select', { name: 'kind', 'data-testid': 'message-kind' },
    h('option', { value: 'sms' }, 'SMS'), h('option', { value: 'email' }, 'Email (raw, with headers)'));
  const sender = h('input', { name: 'sender', placeholder: 'SMS sender (optional)' });
  const text = h('textarea', { rows: 12, class: 'code', 'data-testid': 'message-text', 'aria-label': 'message' });
  const file = h('input', { type: 'file', accept: '.eml,.txt,message/rfc822,text/plain', 'data-testid': 'message-file' });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text();
    if (/^[\w-]+: /m.test(text.value.split('\n')[0])) kind.value = 'email';
  });
  const out = h('div', { 'data-testid': 'verdict' });
  const go = h('button', { 'data-testid': 'analyze' }, 'Analyze');
  go.addEventListener('click', async () => {
    go.disabled = true;
    try {
      const body = kind.value === 'sms' ? { kind: 'sms', text: text.value, ...(sender.value ? { sender: sender.value } : {}) }
        : { kind: 'email', raw: text.value };
      show(out, await post('/v1/messages/analyze', body), text.value);
    } catch (e) {
      clear(out, h('p', { class: 'error', role: 'alert' }, e.message));
    } finally { go.disabled = false; }
  });
  main.append(h('h2', {}, 'Messages'),
    h('section', { class: 'card' },
      h('div', { class: 'row' }, kind, sender, file), text,
      ctx.can('messages:write') ? go : h('p', { class: 'muted' }, 'Your role cannot analyze messages.')),
    out);
}

// The parts of <text> any evidence or indicator names, as ranges.
function marks(text, r) {
  const needles = new Set();
  for (const reason of r.reasons || []) {
    for (let ev of String(reason.evidence || '').split(/[,;]| and |: /)) {
      ev = ev.trim().replace(/^"|"$/g, '').replace(/^(names|links go to|links to) /, '');
      if (ev.length >= 4) needles.add(ev);
    }
  }
  for (const list of Object.values(r.indicators || {})) for (const i of list) if (i.value) needles.add(i.value);
  const ranges = [];
  const low = text.toLowerCase();
  for (const n of needles) {
    let at = 0;
    const k = n.toLowerCase();
    while ((at = low.indexOf(k, at)) >= 0) { ranges.push([at, at + k.length]); at += k.length; }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const x of ranges) {
    const last = merged[merged.length - 1];
    if (last && x[0] <= last[1]) last[1] = Math.max(last[1], x[1]); else merged.push([...x]);
  }
  return merged;
}

function show(el, r, text) {
  const parts = [];
  let pos = 0;
  for (const [a, b] of marks(text, r)) {
    if (a > pos) parts.push(text.slice(pos, a));
    parts.push(h('mark', {}, text.slice(a, b)));
    pos = b;
  }
  parts.push(text.slice(pos));
  clear(el,
    h('section', { class: 'card' },
      h('div', { class: 'titlebar' }, h('h3', {}, 'Verdict'),
        h('span', { 'data-testid': 'verdict-label' }, badge(r.verdict)), h('span', { class: 'muted' }, `score ${Number(r.score).toFixed(2)}`)),
      h('pre', { class: 'message', 'data-testid': 'highlighted' }, parts),
      h('h4', {}, 'Why'),
      h('ul', { class: 'plain', 'data-testid': 'reasons' }, (r.reasons || []).map((x) => h('li', {},
        h('strong', {}, x.title || x.code), ' ', h('span', { class: 'muted small' }, x.code),
        x.evidence ? h('div', { class: 'small' }, x.evidence) : ''))),
      h('h4', {}, 'Indicators'),
      h('ul', { class: 'plain' }, Object.entries(r.indicators || {}).flatMap(([k, list]) => list.map((i) => h('li', {}, badge(k, 'kind'), ' ', i.value))))));
}
