// A region's one server in Debian's Chromium (issue 27): two schools and the
// regional centre on one PostgreSQL, served by one `mentorflow serve`. The
// centre's specialist sets her password from the e-mailed link, logs in
// choosing the centre, and reads the region's page: who has sent the
// year's report, who is late, the totals with small counts withheld, one
// school's figures. A school's curator logs in to her school through the
// same page and is refused the region. axe-core, a phone's width and a
// screenshot on every page.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { World, checkPage } = require('./lib');

const NOW = '2027-01-10T10:00';
const PG = process.env.MENTORFLOW_TEST_PG;
const PASSWORD = { r1: 'длинная дорога через лес', c1: 'тихий вечер у реки' };

// The World of lib.js on a PostgreSQL database of its own (dropped at the end).
class RegionWorld extends World {
  constructor(now) {
    super(now);
    this.name = `mf_web_region_${process.pid}`;
    this.admin = PG;
    this.psql(`DROP DATABASE IF EXISTS ${this.name}`);
    this.psql(`CREATE DATABASE ${this.name}`);
    this.db = PG.slice(0, PG.lastIndexOf('/') + 1) + this.name;
  }
  psql(sql) {
    execFileSync('psql', [this.admin, '-qc', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  at(institution, args, now = this.now) {
    return this.cli(['--institution-id', institution, ...args], now);
  }
  // The links of the e-mails `deliver` sends over the region: {"rc/r1": {institution, token}}.
  regionLinks() {
    const file = require('node:path').join(this.dir, 'mail.jsonl');
    this.cli(['deliver', '--via', 'jsonl:' + file]);
    const out = {};
    for (const line of require('node:fs').readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      const found = /\/account\/password\?institution=([a-z0-9_-]+)&token=([A-Za-z0-9_-]+)/.exec(m.text || '');
      if (found) out[`${found[1]}/${m.to}`] = { institution: found[1], token: found[2], path: found[0] };
    }
    return out;
  }
  async close() {
    await super.close();
    try { this.psql(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`); } catch (e) { /* gone already */ }
  }
}

const skip = !PG ? 'needs PostgreSQL (scripts/with-postgres.sh)' : false;
if (!PG && process.env.CI === 'true') throw new Error('CI=true: the region page tests must run on PostgreSQL');

const w = PG ? new RegionWorld(NOW) : null;
const checks = [];
const state = {};

async function look(page, name) {
  checks.push(await checkPage(page, name));
}

async function logIn(page, institutionTitle, login, password) {
  await page.goto(w.base + '/login');
  await page.selectOption('#institution', { label: institutionTitle });
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
}

before(async () => {
  if (skip) return;
  const papers = ['--address', 'г. Самара, ул. Садовая, д. 1', '--document-kind', 'паспорт', '--document-number',
    '3610 000001', '--document-issued', '2020-03-12', '--document-issuer', 'ГУ МВД России по Самарской области'];
  w.at('rc', ['init', '--regional', '--institution', 'Региональный наставнический центр', '--director', 'rd', '--name',
    'Ирина Сергеевна Волкова', '--institution-address', 'г. Самара, ул. Центральная, д. 1'], '2026-09-01');
  w.at('rc', ['person', 'add', 'r1', ...papers, '--as', 'rd', '--name', 'Ольга Николаевна Белова', '--role', 'regional',
    '--birth', '1985-01-01', '--email', 'r1@example.org'], '2026-09-01');
  for (const [id, title] of [['s7', 'Школа № 7'], ['g3', 'Гимназия № 3']]) {
    w.at(id, ['init', '--institution', title, '--director', 'd1', '--name', 'Пётр Ильич Соколов',
      '--institution-address', 'г. Самара, ул. Школьная, д. 5'], '2026-09-01');
    w.at(id, ['person', 'add', 'c1', ...papers, '--as', 'd1', '--name', 'Мария Петрова', '--role', 'curator',
      '--birth', '1990-01-01', '--email', 'c1@example.org'], '2026-09-01');
  }
  // Школа № 7 sends its report for 2026, signed by its director; the gymnasium does not.
  const rep = w.at('s7', ['start', 'annual_report', '--as', 'c1'], '2026-12-01').split('\n')[0];
  w.at('s7', ['send', rep, 'submit', '--as', 'c1'], '2026-12-10');
  w.at('s7', ['doc', 'sign', `${rep}:report`, '--as', 'd1'], '2026-12-11');
  w.at('rc', ['person', 'invite', 'r1', '--as', 'rd']);
  w.at('s7', ['person', 'invite', 'c1', '--as', 'd1']);
  state.links = w.regionLinks();
  await w.serve();
  await w.launch();
});

after(async () => {
  if (w) await w.close();
});

test('the centre sets its password, logs in choosing the centre and reads the region', { skip }, async () => {
  const link = state.links['rc/r1@example.org'] || state.links['rc/r1'];
  assert.ok(link, 'an invitation to r1 naming the centre: ' + JSON.stringify(Object.keys(state.links)));
  const { page } = await w.person();
  await page.goto(w.base + link.path);
  await look(page, 'region-set-password');
  await page.fill('#password', PASSWORD.r1);
  await page.fill('#password2', PASSWORD.r1);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/account/password"] button[type=submit]')]);
  // Back on the login page with the centre chosen.
  assert.match(page.url(), /\/login\?done=password_set&institution=rc$/);
  assert.equal(await page.locator('#institution').inputValue(), 'rc');
  await look(page, 'region-login');
  // "Forgot the password" keeps the institution chosen.
  assert.equal(await page.locator('a[href^="/account/forgot"]').getAttribute('href'), '/account/forgot?institution=rc');
  await page.fill('#login', 'r1@example.org');
  await page.fill('#password', PASSWORD.r1);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
  assert.match(page.url(), /\/region$/, 'the centre starts on the region page');
  await page.goto(w.base + '/region?year=2026');
  const h1 = await page.locator('h1').innerText();
  assert.equal(h1, 'Сведения организаций за 2026 год');
  const rows = await page.locator('#region-institutions tbody tr').allInnerTexts();
  assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()).sort(),
    ['Гимназия № 3 не представлены, срок 30 декабря прошёл', 'Школа № 7 подписаны 11.12.2026'].sort());
  // The totals: every count of a school with no pairs is withheld.
  const totals = await page.locator('#region-totals tbody').innerText();
  assert.match(totals, /менее 5/);
  assert.doesNotMatch(totals, /\t[0-4]\n/);
  assert.doesNotMatch(await page.content(), /Мария Петрова|Соколов/);
  await look(page, 'region');
  // One school's figures.
  await Promise.all([page.waitForNavigation(), page.click('text=Школа № 7')]);
  assert.equal(await page.locator('#h-shown').innerText(), 'Школа № 7');
  await look(page, 'region-school');
  // The workbook downloads.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href*="rollup.xlsx"]')]);
  assert.equal(download.suggestedFilename(), 'region-2026.xlsx');
});

test('a school logs in through the same page and is refused the region', { skip }, async () => {
  const link = state.links['s7/c1@example.org'] || state.links['s7/c1'];
  assert.ok(link, 'an invitation to the school\'s curator');
  const { page } = await w.person();
  await page.goto(w.base + link.path);
  await page.fill('#password', PASSWORD.c1);
  await page.fill('#password2', PASSWORD.c1);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/account/password"] button[type=submit]')]);
  await logIn(page, 'Школа № 7', 'c1@example.org', PASSWORD.c1);
  assert.equal(await page.locator('.brand').innerText(), 'Школа № 7');
  await page.goto(w.base + '/region?year=2026');
  assert.equal(await page.locator('h1').innerText(), 'Не получилось');
  assert.doesNotMatch(await page.content(), /Гимназия № 3/);
  // The gymnasium's curator has no account: the same login and password there is refused.
  const other = await w.person();
  await logIn(other.page, 'Гимназия № 3', 'c1@example.org', PASSWORD.c1);
  assert.match(other.page.url(), /\/login$/);
  assert.match(await other.page.locator('#login-error').innerText(), /Неверная почта/);
});

test('every page passed axe-core and fits a phone', { skip }, () => {
  for (const c of checks) {
    assert.deepEqual(c.violations, [], `${c.name}: ${c.violations.join('\n')}`);
    assert.ok(c.overflow <= 0, `${c.name}: scrolls sideways by ${c.overflow}px at 360px`);
  }
  assert.ok(checks.length >= 4);
});
