// What the browser tests share: a throwaway database and `mentorflow serve`
// on a free port (gone when the test ends, pass or fail), the operator's
// command line on the same database, Debian's Chromium through
// playwright-core, and the checks every page gets (axe-core, a phone's
// width, a screenshot kept under the build folder).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

const BIN = process.env.MENTORFLOW_BIN;
const SHOTS = process.env.MENTORFLOW_SHOTS || path.join(os.tmpdir(), 'mentorflow-shots');
if (!BIN) throw new Error('MENTORFLOW_BIN: the mentorflow binary to test');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

class World {
  // now: the server's fixed moment ("YYYY-MM-DDTHH:MM"), as --now.
  constructor(now) {
    this.now = now;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mentorflow-web-'));
    this.db = 'sqlite:' + path.join(this.dir, 'test.db');
    this.children = [];
    this.browser = null;
    this.pagesSeen = [];
  }

  // The operator at the console: `mentorflow --db ... --now NOW ARGS...`.
  cli(args, now = this.now) {
    return execFileSync(BIN, ['--db', this.db, '--now', now, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async serve() {
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    const child = spawn(BIN, ['--db', this.db, '--now', this.now, 'serve', '--listen', `127.0.0.1:${this.port}`,
      '--base-url', this.base, '--workers', '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.push(child);
    let log = '';
    child.stderr.on('data', (d) => { log += d; });
    for (let i = 0; i < 100; i++) {
      if (log.includes('serving on')) break;
      if (child.exitCode !== null) throw new Error('serve exited: ' + log);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.serverLog = () => log;
    return this.base;
  }

  async launch() {
    // Russian, as the people are: dates in forms read дд.мм.гггг.
    this.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--lang=ru-RU'] });
    return this.browser;
  }

  // A fresh browser profile for one person.
  async person() {
    const context = await this.browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'ru-RU' });
    const page = await context.newPage();
    page.on('dialog', (d) => { throw new Error('a dialog opened: ' + d.message()); });
    return { context, page };
  }

  // The single-use links the outbox holds, by person: delivered as
  // `deliver --via jsonl:FILE` sends them (the text is scrubbed after).
  links() {
    const file = path.join(this.dir, `outbox-${Date.now()}-${Math.random()}.jsonl`);
    this.cli(['deliver', '--via', 'jsonl:' + file]);
    const out = {};
    if (!fs.existsSync(file)) return out;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      const found = /token=([A-Za-z0-9_-]+)/.exec(m.text || '');
      if (found) out[m.to] = { token: found[1], message: m };
    }
    return out;
  }

  // Every table's rows, for "nothing changed" (sqlite3's dump).
  dump() {
    const file = this.db.slice('sqlite:'.length);
    return execFileSync('sqlite3', [file, '.dump'], { encoding: 'utf8' });
  }

  // The lines of a dump that `after` lacks or adds ([] when nothing changed).
  static changes(before, after) {
    const a = new Set(before.split('\n')), b = new Set(after.split('\n'));
    return [...[...a].filter((l) => !b.has(l)).map((l) => '- ' + l.slice(0, 300)),
      ...[...b].filter((l) => !a.has(l)).map((l) => '+ ' + l.slice(0, 300))];
  }

  async close() {
    if (this.browser) await this.browser.close().catch(() => {});
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(this.children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on('exit', r)))));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// What every page gets: no serious or critical axe-core violation (WCAG 2.0
// A/AA, 2.1 AA, 2.2 AA), no horizontal scrolling at 360 px, and a
// screenshot (full width and phone) under SHOTS.
async function checkPage(page, name) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const wide = page.viewportSize();
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: path.join(SHOTS, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(wide);
  return {
    name,
    violations: bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`),
    overflow,
  };
}

async function login(page, base, login, password) {
  await page.goto(base + '/login');
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
}

async function setPassword(page, base, token, password) {
  await page.goto(`${base}/account/password?token=${token}`);
  await page.fill('#password', password);
  await page.fill('#password2', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/account/password"] button[type=submit]')]);
}

module.exports = { World, checkPage, login, setPassword, SHOTS };
