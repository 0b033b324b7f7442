// Small SVG charts drawn with attributes only (no inline styles: the
// Content-Security-Policy forbids them).
import { h, s } from './dom.js';

const W = 640, H = 200, PAD = 28;

// Stacked bars: rows [{label, values: {k: n}}], keys in stack order.
export function stackedBars(rows, keys, { title } = {}) {
  const max = Math.max(1, ...rows.map((r) => keys.reduce((a, k) => a + (r.values[k] || 0), 0)));
  const bw = (W - PAD * 2) / Math.max(rows.length, 1);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title || 'chart' });
  svg.append(s('line', { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: 'axis' }));
  svg.append(s('text', { x: 2, y: PAD - 8, class: 'tick' }, String(max)));
  rows.forEach((r, i) => {
    let y = H - PAD;
    for (const k of keys) {
      const v = r.values[k] || 0;
      if (!v) continue;
      const bh = (v / max) * (H - PAD * 2);
      y -= bh;
      svg.append(s('rect', { x: PAD + i * bw + 1, y, width: Math.max(bw - 2, 1), height: bh, class: `bar ${k}` },
        s('title', {}, `${r.label} ${k}: ${v}`)));
    }
  });
  if (rows.length) {
    svg.append(s('text', { x: PAD, y: H - 8, class: 'tick' }, rows[0].label));
    svg.append(s('text', { x: W - PAD, y: H - 8, class: 'tick end' }, rows[rows.length - 1].label));
  }
  return h('figure', { class: 'chartbox' }, svg, legend(keys));
}

// A line over [{x: Date, y: number}] with y in [0, 1] (risk).
export function riskLine(points, { title } = {}) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title || 'risk over time' });
  svg.append(s('line', { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: 'axis' }));
  for (const t of [0.5, 0.7, 0.98]) {
    const y = H - PAD - t * (H - PAD * 2);
    svg.append(s('line', { x1: PAD, y1: y, x2: W - PAD, y2: y, class: 'grid' }));
    svg.append(s('text', { x: 2, y: y + 4, class: 'tick' }, t.toFixed(2)));
  }
  if (points.length) {
    const xs = points.map((p) => p.x.getTime());
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    const X = (t) => PAD + ((t - x0) / (x1 - x0)) * (W - PAD * 2);
    const Y = (v) => H - PAD - v * (H - PAD * 2);
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${X(p.x.getTime()).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
    svg.append(s('path', { d, class: 'line' }));
    for (const p of points) {
      svg.append(s('circle', { cx: X(p.x.getTime()), cy: Y(p.y), r: 3, class: `dot ${p.action || ''}` },
        s('title', {}, `${p.x.toISOString()} ${p.action || ''} ${p.y.toFixed(2)}`)));
    }
  }
  return h('figure', { class: 'chartbox' }, svg);
}

// Horizontal bars for a top list [{label, count}].
export function hbars(items) {
  const max = Math.max(1, ...items.map((i) => i.count));
  return h('ul', { class: 'hbars' }, items.length ? items.map((i) => h('li', {},
    h('span', { class: 'hlabel' }, i.label),
    s('svg', { class: 'hbar', viewBox: '0 0 100 10', preserveAspectRatio: 'none' },
      s('rect', { x: 0, y: 0, height: 10, width: (100 * i.count) / max, class: 'bar' })),
    h('span', { class: 'hcount' }, String(i.count)))) : h('li', { class: 'muted' }, 'nothing yet'));
}

function legend(keys) {
  return h('figcaption', { class: 'legend' }, keys.map((k) => h('span', { class: `key ${k}` }, k)));
}
