// Rules (admin only): the running rules, an editor that shows compile
// errors at their line and column, a backtest over recent stored events
// showing what would change, and publishing.
import { get, post, put, ApiError } from '../api.js';
import { h, clear, badge } from '../dom.js';

export async function rulesPage(main, ctx) {
  main.append(h('div', { class: 'titlebar' }, h('h2', {}, 'Rules')));
  if (!ctx.can('rules:write')) {
    main.append(h('p', { class: 'warnbox', 'data-testid': 'rules-admin-only' },
      'Rules are edited by admins. Your role can read cases, accounts and intel, and act on them.'));
    return;
  }
  const cur = await get('/v1/rules');
  const list = h('div', { class: 'scroll' }, h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, ['Rule', 'Action', 'Line', 'What'].map((t) => h('th', {}, t)))),
    h('tbody', {}, cur.rules.map((r) => h('tr', {}, h('td', {}, r.id), h('td', {}, badge(r.action)), h('td', {}, r.line), h('td', {}, r.description || ''))))));
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const editor = h('textarea', { class: 'code', spellcheck: 'false', rows: 24, 'data-testid': 'rules-editor', 'aria-label': 'rules text' });
  editor.value = cur.text;
  const problem = h('p', { class: 'error', role: 'alert', 'data-testid': 'rules-error' });
  const result = h('div', { 'data-testid': 'backtest' });
  const numbers = (bad) => {
    const n = editor.value.split('\n').length;
    clear(gutter, Array.from({ length: n }, (_, i) => h('span', { class: i + 1 === bad ? 'bad' : '' }, `${i + 1}\n`)));
  };
  editor.addEventListener('input', () => { numbers(0); problem.textContent = ''; });
  editor.addEventListener('scroll', () => { gutter.scrollTop = editor.scrollTop; });
  numbers(0);
  const showError = (e) => {
    if (e instanceof ApiError && e.line) {
      problem.textContent = `Line ${e.line}, column ${e.column}: ${e.message}`;
      numbers(e.line);
      const lines = editor.value.split('\n');
      const at = lines.slice(0, e.line - 1).reduce((a, l) => a + l.length + 1, 0) + Math.max(0, (e.column || 1) - 1);
      editor.focus();
      editor.setSelectionRange(at, Math.min(at + 1, editor.value.length));
    } else {
      problem.textContent = e.message;
    }
  };
  const btn = (label, fn, attrs = {}) => {
    const b = h('button', attrs, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      problem.textContent = '';
      try { await fn(); } catch (e) { showError(e); } finally { b.disabled = false; }
    });
    return b;
  };
  main.append(
    h('section', { class: 'card' }, h('h3', {}, `Running rules · version ${cur.version}`), list),
    h('section', { class: 'card' }, h('h3', {}, 'Edit'),
      h('div', { class: 'editor' }, gutter, editor), problem,
      h('div', { class: 'actions' },
        btn('Validate', async () => {
          const r = await post('/v1/rules/validate', { text: editor.value });
          problem.textContent = '';
          clear(result, h('p', { class: 'okbox' }, `Compiles: ${(r.rules || []).length} rules.`));
        }, { 'data-testid': 'validate' }),
        btn('Backtest', async () => {
          clear(result, h('p', { class: 'muted' }, 'Running over recent events…'));
          const r = await post('/v1/rules/backtest', { text: editor.value });
          showBacktest(result, r);
        }, { 'data-testid': 'run-backtest' }),
        btn('Reload from file', async () => {
          const r = await post('/v1/rules/reload', {});
          clear(result, h('p', { class: 'okbox' }, `Reloaded ${r.source || 'the rules file'}: version ${r.version}.`));
        }, { class: 'secondary' }),
        btn('Publish', async () => {
          const r = await put('/v1/rules', { text: editor.value });
          clear(result, h('p', { class: 'okbox', 'data-testid': 'published' }, `Published version ${r.version}.`));
        }, { class: 'danger', 'data-testid': 'publish' })),
      result));
}

function showBacktest(el, r) {
  const trans = Object.entries(r.transitions || {}).filter(([k]) => k.split('->')[0] !== k.split('->')[1]);
  clear(el,
    h('p', { 'data-testid': 'backtest-summary' }, `${r.events} events replayed; `,
      h('strong', {}, `${r.changed} decisions would change`), '.'),
    trans.length ? h('ul', { class: 'plain' }, trans.map(([k, n]) => h('li', {}, `${k}: ${n}`))) : '',
    h('div', { class: 'scroll' }, h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, ['Rule', 'Action', 'Fired', 'Decisive', 'Changed'].map((t) => h('th', {}, t)))),
      h('tbody', {}, (r.rules || []).filter((x) => x.fired || x.changed).map((x) => h('tr', {},
        h('td', {}, x.id), h('td', {}, badge(x.action)), h('td', {}, x.fired), h('td', {}, x.decisive), h('td', {}, x.changed)))))),
    (r.examples || []).length ? h('section', {}, h('h4', {}, 'Examples of changed decisions'),
      h('ul', { class: 'plain' }, r.examples.map((e) => h('li', {}, JSON.stringify(e))))) : '');
}
