// Tiny DOM helpers: elements are built with h() (text goes in as text
// nodes, never as HTML), so nothing from the server can inject markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace('T', ' ').slice(0, 19);
}

export function ago(iso) {
  if (!iso) return '–';
  const ms = new Date(iso) - Date.now();
  const abs = Math.abs(ms), m = Math.round(abs / 60000);
  const txt = m < 1 ? 'now' : m < 120 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
  return txt === 'now' ? txt : ms < 0 ? `${txt} ago` : `in ${txt}`;
}

export function money(amount, currency) {
  if (!currency) return amount ? String(amount) : '–';
  return `${(amount / 100).toFixed(2)} ${currency}`;
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind || String(text).replace(/[^a-z_]/g, '')}` }, text);
}

// A form's named fields as an object (empty strings left out).
export function fields(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== '') out[k] = v;
  return out;
}
