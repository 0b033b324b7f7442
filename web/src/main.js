// The analyst console: sign-in, the shell (navigation, who is signed in)
// and a hash router over the pages. Plain ES modules, bundled by esbuild.
import './app.css';
import { get, post, setSession, whenSignedOut, ApiError } from './api.js';
import { h, clear, fields } from './dom.js';
import { overview } from './pages/overview.js';
import { casesPage, casePage } from './pages/cases.js';
import { accountPage, accountSearch } from './pages/account.js';
import { rulesPage } from './pages/rules.js';
import { messagesPage } from './pages/messages.js';
import { intelPage } from './pages/intel.js';

const app = document.getElementById('app');
let session = null;
let cleanup = null; // the current page's timers

const routes = [
  [/^#\/overview$/, overview, 'Overview'],
  [/^#\/cases$/, casesPage, 'Cases'],
  [/^#\/cases\/([^/]+)$/, casePage, 'Cases'],
  [/^#\/accounts$/, accountSearch, 'Accounts'],
  [/^#\/accounts\/([^/]+)$/, accountPage, 'Accounts'],
  [/^#\/rules$/, rulesPage, 'Rules'],
  [/^#\/messages$/, messagesPage, 'Messages'],
  [/^#\/intel$/, intelPage, 'Intel'],
];
const nav = [['#/overview', 'Overview'], ['#/cases', 'Cases'], ['#/accounts', 'Accounts'],
  ['#/rules', 'Rules'], ['#/messages', 'Messages'], ['#/intel', 'Intel']];

function signIn(message) {
  session = null;
  setSession(null);
  stopPage();
  const err = h('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' }, message || '');
  const form = h('form', { class: 'login', 'data-testid': 'login-form' },
    h('h1', {}, 'accountguard'),
    h('p', { class: 'muted' }, 'Analyst console'),
    h('label', {}, 'Name', h('input', { name: 'name', autocomplete: 'username', required: true, autofocus: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('label', {}, 'Code from your authenticator app',
      h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,9}', required: true })),
    err,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const f = fields(form);
    try {
      const s = await post('/console/api/login', { name: f.name, password: f.password, code: (f.code || '').replace(/\s/g, '') }, { quiet: true });
      start(s);
    } catch (ex) {
      err.textContent = ex instanceof ApiError && ex.code === 'signin_throttled'
        ? ex.message : 'The name, password or code is not right.';
      form.elements.code.value = '';
    }
  });
  clear(app, h('main', { class: 'center' }, form));
}

function start(s) {
  session = s;
  setSession(s);
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/overview';
  render();
}

function stopPage() {
  if (cleanup) cleanup();
  cleanup = null;
}

export function can(scope) {
  return !!session && (session.scopes.includes(scope) || session.scopes.includes('admin'));
}

async function signOut() {
  try { await post('/console/api/logout'); } catch { /* the session may be gone already */ }
  signIn('Signed out.');
}

function render() {
  stopPage();
  if (!session) return;
  const hash = location.hash || '#/overview';
  let page = null, m = null, section = '';
  for (const [re, fn, name] of routes) {
    if ((m = hash.match(re))) { page = fn; section = name; break; }
  }
  const main = h('main', { class: 'page', id: 'page' });
  const shell = h('div', { class: 'shell' },
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/overview' }, 'accountguard'),
      h('nav', {}, nav.map(([href, label]) => h('a', { href, class: label === section ? 'active' : '' }, label))),
      h('span', { class: 'who', 'data-testid': 'who' }, `${session.user.name} · ${session.user.role}`),
      h('button', { class: 'link', onclick: signOut, 'data-testid': 'signout' }, 'Sign out')),
    main);
  clear(app, shell);
  if (!page) {
    main.append(h('p', {}, 'No such page.'));
    return;
  }
  const ctx = { can, session, params: m.slice(1).map(decodeURIComponent), onCleanup: (fn) => { cleanup = fn; } };
  Promise.resolve(page(main, ctx)).catch((e) => {
    if (e instanceof ApiError && e.status === 401) return;
    main.append(h('p', { class: 'error', role: 'alert' }, e.message));
  });
}

whenSignedOut((e) => signIn(e.code === 'session_expired' ? 'Your session ended after a while without use; sign in again.' : ''));
window.addEventListener('hashchange', render);

get('/console/api/me', { quiet: true }).then(start).catch(() => signIn());
