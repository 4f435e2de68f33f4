// The school year's main steps through the browser only, each person logged
// in as themselves, on a real `mentorflow serve` in Debian's Chromium; then
// the refusals (another pair's URL, a form without its CSRF token, a
// required input left empty), hostile names shown as text, axe-core on
// every page, a phone's width, and the signing done with the keyboard.
// The operator's console prepares only what precedes the story: the
// institution, its director and curator, the programme at its pairs stage.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { World, checkPage, login, setPassword, SHOTS } = require('./lib');

const NOW = '2026-09-02T10:00';
const PASSWORD = {
  c1: 'осенний лист кружится', d1: 'приказ подписан вовремя', m1: 'наставник ведёт к цели',
  g2: 'мама читает внимательно',
};
const HOSTILE = '<script>alert(1)</script> "Ко\'тов" {{name}}';

const w = new World(NOW);
const checks = [];
const state = {};

async function look(page, name) {
  checks.push(await checkPage(page, name));
}

async function submitEvent(page, event) {
  const form = page.locator(`form#ev-${event}`);
  await form.locator('button[type=submit]').click();
  await page.waitForLoadState('networkidle');
}

before(async () => {
  w.cli(['init', '--zone', 'Europe/Moscow', '--institution', 'Центр «Радуга»', '--institution-address',
    'г. Москва, ул. Школьная, д. 5', '--director', 'd1', '--name', 'Ольга Карпова']);
  w.cli(['person', 'update', 'd1', '--email', 'd1@example.org', '--birth', '1975-02-03', '--as', 'd1']);
  w.cli(['person', 'add', 'c1', '--as', 'd1', '--name', 'Мария Петрова', '--role', 'curator', '--birth', '1986-10-05',
    '--email', 'c1@example.org']);
  const prog = w.cli(['start', 'programme', '--as', 'd1', '--set', 'year=2026/2027']).split('\n')[0];
  for (const step of [['send', prog, 'approve_regulation', '--as', 'd1'],
    ['send', prog, 'appoint_curator', '--set', 'curator=c1', '--as', 'd1'], ['doc', 'sign', `${prog}:roadmap`, '--as', 'd1'],
    ['send', prog, 'start_mentee_bank', '--as', 'c1'], ['send', prog, 'mentee_bank_ready', '--as', 'c1'],
    ['send', prog, 'mentor_bank_ready', '--as', 'c1'], ['send', prog, 'training_done', '--as', 'c1']]) w.cli(step);
  state.programme = prog;
  // Another pair, of people the story's mentor has nothing to do with.
  w.cli(['person', 'add', 'm9', '--as', 'c1', '--name', 'Пётр Чужой', '--role', 'mentor', '--birth', '1990-01-01']);
  w.cli(['person', 'add', 's9', '--as', 'c1', '--name', 'Вера Чужая', '--role', 'mentee', '--birth', '2000-01-01']);
  state.other = w.cli(['start', 'mentoring_pair', '--as', 'c1', '--set', 'mentor=m9', '--set', 'mentee=s9',
    '--set', 'form=speed', '--set', 'kind=volunteer_pupil']).split('\n')[0];
  w.cli(['person', 'invite', 'c1', '--as', 'd1']);
  w.cli(['person', 'invite', 'd1', '--as', 'd1']);
  state.links = w.links();
  await w.serve();
  await w.launch();
});

after(async () => {
  await w.close();
});

test('the curator registers people, invites them and proposes a pair', async () => {
  const { page } = await w.person();
  await setPassword(page, w.base, state.links.c1.token, PASSWORD.c1);
  assert.match(await page.textContent('.notice'), /Пароль сохранён/);
  await look(page, '01-login-after-password');
  await login(page, w.base, 'c1@example.org', PASSWORD.c1);
  assert.equal(new URL(page.url()).pathname, '/');
  await look(page, '02-curator-tasks');

  await page.click('nav >> text=Люди');
  await look(page, '03-curator-people');
  const register = async (id, name, roles, birth, extra = {}) => {
    await page.fill('#p-id', id);
    await page.fill('#p-name', name);
    for (const r of roles) await page.check(`form[action="/people"] input[name=roles][value=${r}]`);
    await page.fill('#p-birth', birth);
    if (extra.guardian) await page.fill('#p-guardian', extra.guardian);
    if (extra.email) await page.fill('#p-email', extra.email);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/people"] button[type=submit]')]);
    assert.match(await page.textContent('.notice'), /зарегистрирован/, `${id}: ${await page.textContent('main')}`);
    await page.goto(w.base + '/people');
  };
  await register('m1', 'Анна Смирнова', ['mentor'], '1995-05-05', { email: 'm1@example.org' });
  await register('g2', 'Елена Орлова', ['guardian'], '1984-11-02', { email: 'g2@example.org' });
  await register('s2', 'Маша Орлова', ['mentee'], '2014-03-03', { guardian: 'g2' });
  await register('x1', HOSTILE, ['mentor'], '1990-01-01', { email: 'x1@example.org' });
  // Hostile text is text: in the list and on the person's page.
  assert.ok((await page.textContent('#people-table')).includes(HOSTILE));
  await page.goto(w.base + '/people/x1');
  assert.equal(await page.textContent('h1'), HOSTILE);
  await look(page, '04-person-hostile-name');

  await page.goto(w.base + '/workflows/mentoring_pair');
  await look(page, '05-curator-pairs');
  await page.selectOption('#start-parent', state.programme);
  await page.selectOption('#start-f-mentor', 'm1');
  await page.selectOption('#start-f-mentee', 's2');
  await page.selectOption('#start-f-guardian', 'g2');
  await page.selectOption('#start-f-form', 'speed');
  await page.selectOption('#start-f-kind', 'volunteer_pupil');
  await Promise.all([page.waitForNavigation(), page.click('#start-form button[type=submit]')]);
  state.pair = new URL(page.url()).pathname.split('/')[2];
  assert.match(await page.textContent('.state'), /Предложена куратором/);
  await submitEvent(page, 'submit');
  assert.match(await page.textContent('.state'), /Сбор согласий и соглашения/);
  await look(page, '06-pair-documents');
  state.curator = page;

  // A hostile name in a document: text on its page and in its HTML copy.
  await page.goto(w.base + '/workflows/mentoring_pair');
  await page.selectOption('#start-f-mentor', 'x1');
  await page.selectOption('#start-f-mentee', 's9');
  await page.selectOption('#start-f-form', 'speed');
  await page.selectOption('#start-f-kind', 'volunteer_pupil');
  await Promise.all([page.waitForNavigation(), page.click('#start-form button[type=submit]')]);
  assert.ok((await page.textContent('dl.fields')).includes(HOSTILE));
  await submitEvent(page, 'submit');
  await page.click('text=Соглашение между наставником и наставляемым');
  assert.ok((await page.textContent('.paper')).includes(HOSTILE), 'the name is in the document as text');
  assert.equal(await page.locator('script').count(), 1, 'no script but the page\'s own');
  await look(page, '06b-document-hostile-name');
  const doc = decodeURIComponent(new URL(page.url()).pathname.slice('/documents/'.length));
  const copy = await (await page.request.get(`${w.base}/api/v1/documents/${doc}/render.html`)).text();
  assert.ok(copy.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'escaped in the printed copy');
  assert.ok(!copy.includes('<script>'), 'no script in the printed copy');
});

test('a mother sets her password, signs her 12-year-old\'s consent and the agreement', async () => {
  Object.assign(state.links, w.links());
  assert.ok(state.links.g2 && state.links.m1, 'invitations went out to the mother and the mentor');
  assert.ok(state.links.x1.message.text.includes(HOSTILE), 'an e-mail shows a hostile name as it is');
  const { page } = await w.person();
  await setPassword(page, w.base, state.links.g2.token, PASSWORD.g2);
  await login(page, w.base, 'g2', PASSWORD.g2);
  await look(page, '07-mother-tasks');
  // Her daughter's consent first: the agreement waits for it. A consent
  // signed here states the addresses and identity documents of both and the
  // document of the mother's authority (152-FZ art. 9 part 4): until they
  // are recorded there is nothing to sign, and the page says what is missing.
  await page.click('text=За Маша Орлова');
  const child = page.url();
  const missing = await page.textContent('section[aria-labelledby=h-consent] .notice');
  assert.match(missing, /Пока не хватает/);
  for (const what of ['Маша Орлова: адрес места жительства', 'Елена Орлова: документ, удостоверяющий личность',
    'Елена Орлова: документ, подтверждающий полномочия законного представителя']) assert.ok(missing.includes(what), what);
  assert.equal(await page.locator('#consent-password').count(), 0, 'no signature while the consent would lack them');
  await look(page, '08a-mother-child-consent-missing');
  const record = async (p, fields) => {
    for (const [name, value] of Object.entries(fields)) await p.fill(`#p-${name}`, value);
    await Promise.all([p.waitForNavigation(), p.click('form[action$="/particulars"] button[type=submit]')]);
    assert.match(await p.textContent('.notice'), /Сведения для согласия сохранены/);
  };
  await record(page, { address: 'г. Москва, ул. Лесная, д. 7, кв. 12', kind: 'свидетельство о рождении',
    number: 'IV-МЮ 512345', issued: '2014-03-20', issuer: 'Отдел ЗАГС Тверского района Москвы',
    authority: 'свидетельство о рождении IV-МЮ 512345 от 20.03.2014' });
  // Her own, from the link in the list: on her own page.
  await Promise.all([page.waitForNavigation(),
    page.locator('section[aria-labelledby=h-consent] .notice a[href^="/people/g2"]').first().click()]);
  await record(page, { address: 'г. Москва, ул. Лесная, д. 7, кв. 12', kind: 'паспорт', number: '4510 123456',
    issued: '2019-06-01', issuer: 'ГУ МВД России по г. Москве' });
  await page.goto(child);
  await look(page, '08-mother-child-consent');
  assert.ok((await page.textContent('.paper')).includes('IV-МЮ 512345'), 'the text states the child\'s document');
  await page.fill('#consent-password', PASSWORD.g2);
  await Promise.all([page.waitForNavigation(), page.click('text=Подписать согласие')]);
  assert.match(await page.textContent('.notice'), /Согласие подписано/);
  await page.goto(w.base + '/');
  await page.click('text=Соглашение между наставником и наставляемым');
  await look(page, '09-mother-agreement');
  assert.ok((await page.textContent('.paper')).includes('Маша Орлова'));
  await page.fill('#sign-password', PASSWORD.g2);
  await Promise.all([page.waitForNavigation(), page.click('#sign-button')]);
  assert.match(await page.textContent('.notice'), /Документ подписан/);
  state.mother = page;
});

test('the mentor signs her consent, the agreement and the duties', async () => {
  const { page } = await w.person();
  await setPassword(page, w.base, state.links.m1.token, PASSWORD.m1);
  await login(page, w.base, 'm1', PASSWORD.m1);
  await look(page, '10-mentor-tasks');
  await page.click('text=Моё согласие');
  for (const [name, value] of Object.entries({ address: 'г. Москва, ул. Садовая, д. 3', kind: 'паспорт',
    number: '4512 654321', issued: '2015-05-05', issuer: 'ГУ МВД России по г. Москве' })) await page.fill(`#p-${name}`, value);
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/particulars"] button[type=submit]')]);
  await page.fill('#consent-password', PASSWORD.m1);
  await Promise.all([page.waitForNavigation(), page.click('text=Подписать согласие')]);
  for (const title of ['Соглашение между наставником и наставляемым',
    'Согласие на выполнение дополнительных обязанностей наставника']) {
    await page.goto(w.base + '/');
    await page.click(`text=${title}`);
    await page.fill('#sign-password', PASSWORD.m1);
    await Promise.all([page.waitForNavigation(), page.click('#sign-button')]);
    assert.match(await page.textContent('.notice'), /Документ подписан/, title);
  }
  state.mentor = page;
});

test('the mentor adds three plan items, marks one done without reloading the page, and the curator agrees the plan', async () => {
  const page = state.mentor;
  await page.goto(`${w.base}/instances/${state.pair}`);
  await page.click('text=Индивидуальный план: начать или открыть');
  await look(page, '16-plan-start');
  await Promise.all([page.waitForNavigation(), page.click('#start-form button[type=submit]')]);
  state.plan = new URL(page.url()).pathname.split('/')[2];
  await page.evaluate(() => { window.__stayed = true; });
  const items = [['Знакомство, постановка целей', '2026-09-15'], ['Проект к зимнему фестивалю', '2026-12-15'],
    ['Итоги полугодия', '2026-12-25']];
  for (const [title, due] of items) {
    await page.fill('#ev-add_item-f-title', title);
    await page.fill('#ev-add_item-f-due', due);
    await page.click('#ev-add_item button[type=submit]');
    await page.waitForFunction((t) => document.querySelector('#table-items')?.textContent.includes(t), title);
  }
  await page.click('#ev-update_item-box > summary');  // a form people use less often: folded
  await page.selectOption('#ev-update_item-f-id', '1');
  await page.selectOption('#ev-update_item-f-status', 'done');
  await page.click('#ev-update_item button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#table-items tbody tr')?.textContent.includes('выполнено'));
  assert.equal(await page.evaluate(() => window.__stayed), true, 'the page was not reloaded');
  assert.equal(await page.locator('#table-items tbody tr').count(), 3);
  await look(page, '17-plan-items');
  // The plan goes to the curator, both sign it, the curator agrees it: the
  // pair goes to the director only with its plan agreed.
  await submitEvent(page, 'submit');
  const planDoc = `/documents/${encodeURIComponent(`${state.plan}:plan:1`)}`;
  for (const [who, p] of [['m1', page], ['c1', state.curator]]) {
    await p.goto(w.base + planDoc);
    await p.fill('#sign-password', PASSWORD[who]);
    await Promise.all([p.waitForNavigation(), p.click('#sign-button')]);
    assert.match(await p.textContent('.notice'), /Документ подписан/, who);
  }
  await state.curator.goto(`${w.base}/instances/${state.plan}`);
  await submitEvent(state.curator, 'agree');
  assert.match(await state.curator.textContent('.state'), /Выполняется/);
});

test('the curator sends the pair for approval and issues the order', async () => {
  const page = state.curator;
  await page.goto(`${w.base}/instances/${state.pair}`);
  await submitEvent(page, 'ready');
  assert.match(await page.textContent('.state'), /На утверждении у директора/);
  await page.goto(w.base + '/workflows/mentoring_pair');
  await Promise.all([page.waitForNavigation(), page.click('text=Выпустить: Приказ о закреплении наставнических пар')]);
  assert.match(await page.textContent('.notice'), /Приказ выпущен/);
  await look(page, '11-order-issued');
  state.order = decodeURIComponent(new URL(page.url()).pathname.slice('/documents/'.length));
});

test('the director reads the order and signs it with the keyboard only', async () => {
  const { page } = await w.person();
  await setPassword(page, w.base, state.links.d1.token, PASSWORD.d1);
  await login(page, w.base, 'd1', PASSWORD.d1);
  await look(page, '12-director-tasks');
  // Keyboard only: Tab to the order, Enter; Tab to the password, type, Enter.
  const tabTo = async (match) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { text: el.textContent || '', id: el.id, outline: style.outlineStyle, width: style.outlineWidth };
      });
      if (f.id || f.text.trim()) assert.notEqual(f.outline, 'none', `focus is visible on "${f.text.trim() || f.id}"`);
      if (match(f)) return;
    }
    assert.fail('not reached with Tab');
  };
  await tabTo((f) => f.text.includes('Приказ о закреплении'));
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await look(page, '13-director-order');
  assert.ok((await page.textContent('#h-items + ul')).includes(state.pair), 'the order lists the pair it approves');
  await tabTo((f) => f.id === 'sign-password');
  await page.keyboard.type(PASSWORD.d1);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('.notice'), /Документ подписан/);
  await look(page, '14-director-order-signed');
  // Every copy carries the signature block: who, when, how, and the text's SHA-256.
  const sha = (await page.textContent('.hash')).trim();
  assert.match(sha, /^[0-9a-f]{64}$/);
  const block = [/Ольга Карпова/, /простой электронной подписью/, /02\.09\.2026 10:00/, new RegExp(sha)];
  for (const format of ['html', 'odt', 'pdf']) {
    const res = await page.request.get(`${w.base}/api/v1/documents/${encodeURIComponent(state.order).replace('%2F', '/')}/render.${format}`);
    assert.equal(res.status(), 200, format);
    const file = path.join(w.dir, `order.${format}`);
    fs.writeFileSync(file, await res.body());
    const text = format === 'html' ? fs.readFileSync(file, 'utf8').replace(/<[^>]+>/g, ' ')
      : format === 'odt' ? execFileSync('unzip', ['-p', file, 'content.xml'], { encoding: 'utf8' }).replace(/<[^>]+>/g, ' ')
        : execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' });
    const flat = text.replace(/\s+/g, ' ');
    // A PDF's table cells may interleave in the text read back: there, each word of the block.
    for (const re of block) {
      if (format !== 'pdf') assert.match(flat, re, `${format}: ${re}`);
      else for (const word of re.source.replace(/\\/g, '').split(' ')) assert.ok(flat.includes(word), `pdf: ${word}`);
    }
    if (format === 'pdf') {
      execFileSync('pdftoppm', ['-png', '-r', '60', file, path.join(SHOTS, '14-order-pdf')]);
      assert.ok(fs.readdirSync(SHOTS).some((f) => f.startsWith('14-order-pdf')), 'the PDF drawn as PNG');
    }
  }
  await page.goto(`${w.base}/instances/${state.pair}`);
  assert.match(await page.textContent('.state'), /Работает/);
  await look(page, '15-pair-active');
});

test('the mother downloads her child\'s data, and the download is in the history', async () => {
  const page = state.mother;
  await page.goto(w.base + '/people/s2');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=скачать (JSON)')]);
  const data = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.ok(JSON.stringify(data).includes('Маша Орлова'));
  const history = JSON.parse(w.cli(['person', 'export', 's2', '--as', 'c1', '--json']));
  assert.ok(JSON.stringify(history).includes('"g2"'), 'the export by g2 is in s2\'s history');
});

test('the mother asks to correct her child\'s data, and the curator sees it and answers', async () => {
  const page = state.mother;
  await page.goto(w.base + '/people/s2');
  await page.check('input[name=kind][value=correction]');
  await page.fill('#request-text', 'В фамилии ошибка: правильно «Орлова-Светлова».');
  await Promise.all([page.waitForNavigation(), page.click('text=Направить обращение куратору')]);
  assert.match(await page.textContent('.notice'), /Запрос передан куратору/);
  assert.match(await page.textContent('main'), /Уточнить персональные данные по требованию субъекта/);
  assert.match(await page.textContent('main'), /Орлова-Светлова/);
  await look(page, '20-mother-correction-request');
  const request = new URL(page.url()).pathname.split('/')[2];

  const curator = state.curator;
  await curator.goto(w.base + '/');
  assert.ok((await curator.textContent('main')).includes(`Обязанности оператора персональных данных №${request}`));
  await curator.goto(`${w.base}/instances/${request}`);
  await curator.click('#ev-answered-box > summary');
  await curator.fill('#ev-answered-f-answer', 'Фамилия исправлена.');
  await curator.click('#ev-answered button[type=submit]');
  await curator.waitForFunction(() => document.querySelector('.state')?.textContent.includes('Исполнено'));
  await look(curator, '21-curator-answered');
});

test('refusals: another pair\'s URL is «не найдено», a form without its CSRF token and an empty required input change nothing', async () => {
  const page = state.mentor;
  const res = await page.goto(`${w.base}/instances/${state.other}`);
  assert.equal(res.status(), 404);
  const text = await page.textContent('main');
  assert.match(text, /Не найдено/);
  for (const name of ['Пётр', 'Вера', 'm9', 's9']) assert.ok(!text.includes(name), `no ${name} on the page`);
  await look(page, '18-not-found');

  const before = w.dump();
  // ASVS 5.0 V3.5.1: a change without the session's token is refused.
  const posted = await page.request.post(`${w.base}/instances/${state.plan}/send`, {
    form: { event: 'add_item', 'f.title': 'Чужой пункт', 'f.due': '2026-10-01' }, maxRedirects: 0,
  });
  assert.equal(posted.status(), 403);
  assert.match(await posted.text(), /Форма устарела/);
  assert.deepEqual(World.changes(before, w.dump()), [], 'nothing changed');

  // A required input left empty (the browser's own check switched off): the
  // server marks it at its field and changes nothing.
  await page.goto(`${w.base}/instances/${state.plan}`);
  await page.evaluate(() => { for (const f of document.forms) f.noValidate = true; });
  await page.fill('#ev-add_item-f-due', '2026-10-01');
  await page.click('#ev-add_item button[type=submit]');
  await page.waitForSelector('#ev-add_item .field.invalid');
  assert.equal(await page.getAttribute('#ev-add_item-f-title', 'aria-invalid'), 'true');
  assert.match(await page.textContent('#ev-add_item-f-title-err'), /Заполните это поле/);
  await look(page, '19-required-marked');
  // The page shown again with the refusal is a read, recorded as every read
  // is (person_history, 'read'); nothing else may differ.
  const changed = World.changes(before, w.dump()).filter((l) => !/INSERT INTO person_history VALUES\(.*,'read',/.test(l));
  assert.deepEqual(changed, [], 'nothing changed');
});

test('every page: no serious accessibility violation, no horizontal scrolling at 360 px, a screenshot', () => {
  const problems = [];
  for (const c of checks) {
    if (c.violations.length) problems.push(`${c.name}: ${c.violations.join(' | ')}`);
    if (c.overflow > 0) problems.push(`${c.name}: ${c.overflow}px wider than a 360 px phone`);
    for (const f of [`${c.name}.png`, `${c.name}-360.png`])
      assert.ok(fs.statSync(path.join(SHOTS, f)).size > 1000, f);
  }
  assert.ok(checks.length >= 22, `${checks.length} pages looked at`);
  assert.deepEqual(problems, []);
});
