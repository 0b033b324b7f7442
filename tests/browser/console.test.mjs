// Browser tests of the analyst console: a real `accountguard serve` on a
// temporary data directory, console users made with the CLI, and Debian's
// chromium driven by playwright-core. Flows: sign in with TOTP (the code is
// computed here), the overview, work a case from open to resolved, secure an
// account, edit and backtest a rule, analyze a message, a phone-sized
// screen. Any Content-Security-Policy violation or page error fails the run.
// A failing test leaves a screenshot under tests/artifacts/browser/.
//
// Usage: AG_BIN=build/accountguard node tests/browser/console.test.mjs [test names]
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SRC = process.env.AG_SOURCE_DIR || resolve(here, '../..');
const BIN = process.env.AG_BIN || join(SRC, 'build/accountguard');
const CHROMIUM = process.env.AG_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(SRC, 'tests/artifacts/browser');
const FAST = ['--password_hash_ops=1', '--password_hash_mem_kib=8192'];
const PASSWORD = 'correct horse battery staple 42';

// ---- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) ----
function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, val = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    val = (val << 5) | abc.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((val >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}
class User {
  constructor(name, role, secret) { Object.assign(this, { name, role, secret, last: -1 }); }
  async code() { // a step after the last used one, within one step of now
    for (;;) {
      const now = Math.floor(Date.now() / 30000);
      const step = Math.max(now - 1, this.last + 1);
      if (step <= now + 1) { this.last = step; return totp(this.secret, step); }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

// ---- the server ----
const data = mkdtempSync(join(tmpdir(), 'agbrowser'));
let server, base, apiKey;

function cli(...args) {
  return execFileSync(BIN, [...args, `--data-dir=${data}`, ...FAST], {
    encoding: 'utf8', env: { ...process.env, AG_CONSOLE_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
}
function freePort() {
  return new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}
async function startServer() {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', `--data-dir=${data}`, `--listen=127.0.0.1:${port}`, ...FAST], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; if (log.length > 200000) log = log.slice(-100000); });
  server.log = () => log;
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(base + '/healthz')).ok) return; } catch { /* not yet */ }
    if (server.exitCode !== null) throw new Error('server exited: ' + log.slice(-2000));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not come up');
}
async function call(method, path, body) {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}
function makeUser(name, role) {
  const uri = cli('console-user', 'create', '--name', name, '--role', role).trim();
  return new User(name, role, new URL(uri).searchParams.get('secret'));
}
async function seed() {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
  const ev = (id, type, account, ip, device, extra = {}) => ({ id, type, occurred_at: new Date().toISOString(),
    account: { id: account }, context: { ip, user_agent: ua, device_id: device, session_id: `s_${id}` }, ...extra });
  for (const [i, acct] of ['u_vera', 'u_olaf', 'u_mina'].entries()) {
    await call('POST', '/v1/events', ev(`seed-${i}-1`, 'login.succeeded', acct, '81.2.69.160', `d_${acct}`));
    await call('POST', '/v1/events', ev(`seed-${i}-2`, 'login.succeeded', acct, '185.220.101.4', 'd_evil',
      { context: { ip: '185.220.101.4', user_agent: 'python-requests/2.31.0', device_id: 'd_evil', session_id: `s_evil_${i}` } }));
  }
  await call('POST', '/v1/accounts/u_vera/sessions', { device_id: 'd_u_vera' }).catch(() => null);
}

// ---- the browser ----
let browser;
const problems = []; // CSP violations and page errors, per test
async function newPage(viewport = { width: 1280, height: 900 }) {
  const ctx = await browser.newContext({ viewport, baseURL: base });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(15000);
  return page;
}
async function signIn(page, user, opts = {}) {
  await page.goto('/');
  await page.waitForSelector('[data-testid=login-form]');
  await page.fill('input[name=name]', user.name);
  await page.fill('input[name=password]', opts.password || PASSWORD);
  await page.fill('input[name=code]', opts.code || await user.code());
  await page.click('button[type=submit]');
}
function expect(cond, what) { if (!cond) throw new Error(`expected ${what}`); }
async function textOf(page, sel) { return (await page.locator(sel).first().innerText()).trim(); }

let admin, analyst;
const tests = {
  async sign_in_with_totp(page) {
    await signIn(page, analyst, { code: '000000' === totp(analyst.secret, Math.floor(Date.now() / 30000)) ? '111111' : '000000' });
    await page.waitForSelector('[data-testid=login-error]:not(:empty)');
    expect((await textOf(page, '[data-testid=login-error]')).includes('not right'), 'a refusal message');
    await page.fill('input[name=password]', PASSWORD);
    await page.fill('input[name=code]', await analyst.code());
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=overview]');
    expect((await textOf(page, '[data-testid=who]')).includes('analyst'), 'the analyst signed in');
    const cookies = await page.context().cookies();
    const c = cookies.find((x) => x.name === 'ag_console');
    expect(c && c.httpOnly && c.sameSite === 'Strict' && c.secure, 'an HttpOnly, Secure, SameSite=Strict cookie');
    expect(await page.evaluate(() => document.cookie) === '', 'the cookie hidden from scripts');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=decisions-total]')?.textContent) > 0);
    // the overview refreshes on its own: a new decision shows up
    const before = Number(await textOf(page, '[data-testid=decisions-total]'));
    await call('POST', '/v1/events', { id: 'live-1', type: 'login.succeeded', occurred_at: new Date().toISOString(),
      account: { id: 'u_live' }, context: { ip: '81.2.69.160' } });
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=decisions-total]')?.textContent) > n, before, { timeout: 12000 });
    // the rules page tells an analyst it is for admins
    await page.goto('/console/#/rules');
    await page.waitForSelector('[data-testid=rules-admin-only]');
    await page.click('[data-testid=signout]');
    await page.waitForSelector('[data-testid=login-form]');
    const r = await page.evaluate(() => fetch('/v1/cases').then((x) => x.status));
    expect(r === 401, 'no access after signing out');
  },

  async work_a_case_to_resolved(page) {
    const c = await call('POST', '/v1/cases', { account_id: 'u_olaf', type: 'unauthorized_transaction',
      title: 'Olaf: card payment he does not know', amount: 12999, currency: 'EUR', priority: 'high' });
    await signIn(page, analyst);
    await page.waitForSelector('[data-testid=overview]');
    await page.click('nav >> text=Cases');
    await page.fill('input[name=q]', 'card payment he does not know');
    await page.click('[data-testid=case-filters] button[type=submit]');
    // the search leaves this one case in the queue
    await page.waitForFunction((id) => {
      const rows = document.querySelectorAll('[data-testid=case-queue] tbody tr');
      return rows.length === 1 && rows[0].dataset.case === id;
    }, c.id);
    await page.click(`tr[data-case="${c.id}"] >> text=Assign to me`);
    await page.waitForSelector(`tr[data-case="${c.id}"] >> text=${analyst.name}`);
    await page.click(`tr[data-case="${c.id}"] a >> text=card payment`);
    await page.waitForSelector('[data-testid=case-status] >> text=open');
    await page.click('text=Start investigating');
    await page.waitForSelector('[data-testid=case-status] >> text=investigating');
    await page.fill('[data-testid=note-form] textarea', 'Customer confirmed on the phone: not his payment.');
    await page.click('[data-testid=note-form] button');
    await page.waitForSelector('[data-testid=timeline] >> text=not his payment');
    await page.fill('[data-testid=evidence-form] input[name=ref]', 'seed-1-2');
    await page.fill('[data-testid=evidence-form] input[name=note]', 'the sign-in from the Tor exit');
    await page.click('[data-testid=evidence-form] button');
    await page.waitForSelector('[data-testid=evidence] >> text=seed-1-2');
    await page.selectOption('[data-testid=tx-form] select[name=kind]', 'mark_unauthorized');
    await page.fill('[data-testid=tx-form] input[name=id]', 'tx_4711');
    await page.click('[data-testid=tx-form] button');
    await page.waitForSelector('[data-testid=case-actions] >> text=tx_4711');
    await page.selectOption('[data-testid=tx-form] select[name=kind]', 'reverse');
    await page.fill('[data-testid=tx-form] input[name=id]', 'tx_4711');
    await page.fill('[data-testid=tx-form] input[name=amount]', '12999');
    await page.fill('[data-testid=tx-form] input[name=currency]', 'EUR');
    await page.click('[data-testid=tx-form] button');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=case-actions] li').length >= 2);
    await page.click('[data-testid=resolve-fraud]');
    await page.waitForSelector('[data-testid=case-status] >> text=resolved_fraud');
    const after = await call('GET', `/v1/cases/${c.id}`);
    expect(after.status === 'resolved_fraud' && after.assignee === analyst.name, 'the case resolved and assigned');
    const acts = await call('GET', `/v1/cases/${c.id}/actions`);
    expect(acts.items.some((a) => a.kind === 'reverse') && acts.items.some((a) => a.kind === 'mark_unauthorized'), 'both actions recorded');
    const audit = await call('GET', '/v1/audit?limit=1000&actor=console:' + analyst.name);
    expect(audit.items.some((e) => e.target === `/v1/cases/${c.id}/status`), 'the console actions in the audit log');
  },

  async secure_an_account(page) {
    await signIn(page, analyst);
    await page.waitForSelector('[data-testid=overview]');
    await page.goto('/console/#/accounts/u_vera');
    await page.waitForSelector('[data-testid=account-state] >> text=active');
    await page.waitForSelector('[data-testid=logins] >> text=185.220.101.4');
    expect(await page.locator('svg[aria-label="risk over time"] circle').count() >= 2, 'risk points on the chart');
    await page.click('[data-testid=secure-account]');
    await page.waitForSelector('[data-testid=flash] >> text=secured');
    await page.waitForSelector('[data-testid=account-state] >> text=frozen');
    const a = await call('GET', '/v1/accounts/u_vera');
    expect(a.state === 'frozen', 'the account frozen');
    const s = await call('GET', '/v1/accounts/u_vera/sessions');
    expect(s.items.length === 0, 'no live sessions');
    await page.waitForSelector('[data-testid=freezes] >> text=freeze');
  },

  async edit_and_backtest_a_rule(page) {
    await signIn(page, admin);
    await page.waitForSelector('[data-testid=overview]');
    await page.click('nav >> text=Rules');
    await page.waitForSelector('[data-testid=rules-editor]');
    const text = await page.inputValue('[data-testid=rules-editor]');
    const lines = text.split('\n').length;
    await page.fill('[data-testid=rules-editor]', text + '\nrule broken "half a rule"\n  when event.login and\n  then deny\n');
    await page.click('[data-testid=validate]');
    await page.waitForSelector('[data-testid=rules-error]:not(:empty)');
    const err = await textOf(page, '[data-testid=rules-error]');
    const m = err.match(/^Line (\d+), column (\d+)/);
    expect(m && Number(m[1]) > lines, `an error at a line after the old text, got "${err}"`);
    expect((await page.locator('.gutter .bad').innerText()).trim() === m[1], 'the bad line marked in the gutter');
    await page.fill('[data-testid=rules-editor]', text +
      '\nrule console_lockdown "deny every sign-in (an incident drill)"\n  when event.type == "login.succeeded"\n  then deny score 0.99\n');
    await page.click('[data-testid=validate]');
    await page.waitForSelector('[data-testid=backtest] >> text=Compiles');
    await page.click('[data-testid=run-backtest]');
    await page.waitForSelector('[data-testid=backtest-summary]');
    const summary = await textOf(page, '[data-testid=backtest-summary]');
    const n = summary.match(/(\d+) events replayed; (\d+) decisions would change/);
    expect(n && Number(n[1]) >= 6 && Number(n[2]) >= 1, `a backtest that changes decisions, got "${summary}"`);
    await page.waitForSelector('[data-testid=backtest] >> text=console_lockdown');
    await page.click('[data-testid=publish]');
    await page.waitForSelector('[data-testid=published]');
    const live = await call('GET', '/v1/rules');
    expect(live.rules.some((r) => r.id === 'console_lockdown'), 'the new rule running');
  },

  async analyze_a_message(page) {
    await signIn(page, analyst);
    await page.waitForSelector('[data-testid=overview]');
    await page.click('nav >> text=Messages');
    await page.fill('[data-testid=message-text]', 'DHL: your parcel is held at customs. Pay the fee now at http://dhl-parcel-fee.top/pay to release it.');
    await page.click('[data-testid=analyze]');
    await page.waitForSelector('[data-testid=verdict-label]');
    const v = await textOf(page, '[data-testid=verdict-label]');
    expect(v === 'phishing', `a phishing verdict, got ${v}`);
    const marked = await page.locator('[data-testid=highlighted] mark').allInnerTexts();
    expect(marked.some((t) => t.includes('dhl-parcel-fee.top')), `the link highlighted, got ${JSON.stringify(marked)}`);
    expect((await page.locator('[data-testid=reasons] li').count()) >= 2, 'reasons listed');
  },

  async phone_sized_screen(page) {
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, admin);
    await page.waitForSelector('[data-testid=overview]');
    for (const hash of ['#/overview', '#/cases', '#/accounts/u_vera', '#/rules', '#/messages', '#/intel']) {
      await page.goto('/console/' + hash);
      await page.waitForSelector('main.page h2');
      await page.waitForTimeout(300);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(w <= 392, `${hash} to fit 390 px, is ${w} px wide`);
    }
    await page.goto('/console/#/intel');
    await page.waitForSelector('[data-testid=intel-add]');
    await page.fill('[data-testid=intel-add] input[name=value]', 'evil-login-page.example');
    await page.selectOption('[data-testid=intel-add] select[name=type]', 'domain');
    await page.click('[data-testid=intel-add] button');
    await page.waitForSelector('tr[data-indicator="evil-login-page.example"]');
    await page.click('tr[data-indicator="evil-login-page.example"] >> text=Expire');
    await page.waitForSelector('[data-testid=flash] >> text=expired');
    await page.selectOption('select[name=state]', 'expired');
    await page.click('button >> text=Filter');
    await page.waitForSelector('tr[data-indicator="evil-login-page.example"] >> text=expired');
  },
};

async function main() {
  const only = process.argv.slice(2);
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (scripts/install-deps.sh test installs it)`);
  await startServer();
  apiKey = cli('apikey', 'create', '--name', 'browser-test', '--scopes', 'admin').trim();
  admin = makeUser('ada', 'admin');
  analyst = makeUser('ann', 'analyst');
  await seed();
  // playwright gives the browser a new, empty --user-data-dir of its own
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  let passed = 0, failed = 0;
  for (const [name, fn] of Object.entries(tests)) {
    if (only.length && !only.includes(name)) continue;
    const t0 = Date.now();
    const page = await newPage();
    problems.length = 0;
    try {
      await fn(page);
      if (problems.length) throw new Error(problems.join('\n'));
      passed++;
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}\n${e.stack || e}`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${join(ARTIFACTS, `${name}.png`)}`);
    }
    await page.context().close();
  }
  await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

let failures = 1;
try {
  failures = await main();
} catch (e) {
  console.log(`FAIL setup\n${e.stack || e}`);
  if (server) console.log(server.log().slice(-3000));
} finally {
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (browser) await browser.close().catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  rmSync(data, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
