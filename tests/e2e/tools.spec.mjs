// The console's tools in Debian's headless Chromium: decide a pending comment → restore it
// from "rejected" → search → the author's record and a note → the audit log (filtered, CSV)
// → site settings with a field error → previews (backtests) of stricter thresholds and of a word
// list before saving them → an article set up before its first comment → a view and a preview at
// phone width → sign out everywhere. Run by tests/console.rs:
//   node tools.spec.mjs <base-url> <admin-key> <ingest-key> <previews-json>
// where <previews-json> holds what the previews must report, computed by the Rust test through
// the API (`seed_previews` in tests/console.rs).
// Screenshots go to $E2E_OUT (target/e2e).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const [base, adminKey, ingestKey, previewsJson] = process.argv.slice(2);
if (!base || !adminKey || !ingestKey || !previewsJson) {
  console.error('usage: node tools.spec.mjs <base-url> <admin-key> <ingest-key> <previews-json>');
  process.exit(2);
}
const previews = JSON.parse(previewsJson);
const out = process.env.E2E_OUT || path.resolve('../../target/e2e');
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.VIGIE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const api = async (k, method, p, body) => {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: 'Bearer ' + k, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
};

let step = 'start';
const dialogs = [];
const pageErrors = [];
async function newPage(viewport) {
  const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 800 }, locale: 'fr-FR' });
  const page = await context.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(10000);
  return { context, page };
}
async function signIn(page) {
  await page.goto(base + '/console');
  await page.waitForSelector('#signin-key');
  await page.fill('#signin-key', adminKey);
  await page.click('#signin-submit');
  await page.waitForSelector('#list li.current');
}
const currentId = (page) => page.$eval('#panel', (p) => Number(p.dataset.id));
// Previews: the thresholds the Rust test backtested, typed in the form.
const th = previews.thresholds;
async function fillThresholds(page) {
  await page.fill('#th-tox-review', String(th.toxicity.review));
  await page.fill('#th-tox-reject', String(th.toxicity.reject));
  await page.fill('#th-spam-review', String(th.spam.review));
  await page.fill('#th-spam-reject', String(th.spam.reject));
}
// The preview's sentence once it has one starting with `start`.
async function previewSentence(page, box, start) {
  await page.waitForFunction(([b, s]) => {
    const p = document.querySelector(b + ' .bt-sentence');
    return !!p && p.textContent.startsWith(s);
  }, [box, start]);
  return page.$eval(box + ' .bt-sentence', (p) => p.textContent);
}
// The backtest a preview box shows, from the API.
async function jobOf(page, box) {
  const id = await page.$eval(box, (b) => b.dataset.backtest);
  return (await api(adminKey, 'GET', '/v1/backtests/' + id)).body;
}
// What the console must say of a difference, in French (0 and 1 singular) and in English.
// Moderators' decisions are named when there are any: "dont 2 rejetés et 1 approuvé", "dont 2
// rejetés", "dont 1 approuvé", else "aucun décidé".
function frMods({ moderators_rejected: r, moderators_approved: a }) {
  const rj = r + (r > 1 ? ' rejetés' : ' rejeté');
  const ap = a + (a > 1 ? ' approuvés' : ' approuvé');
  if (!r && !a) return ', aucun décidé par les modérateurs';
  return ', dont ' + (r && a ? rj + ' et ' + ap : r ? rj : ap) + ' par les modérateurs';
}
function enMods({ moderators_rejected: r, moderators_approved: a }) {
  if (!r && !a) return ', none of which moderators had decided';
  return r && a ? `, ${r} of which moderators rejected and ${a} approved` : r ? `, ${r} of which moderators rejected` : `, ${a} of which moderators approved`;
}
const frSentence = (verb, d) => `Sur les 30 derniers jours, ce changement aurait ${verb} ${d.count} ${d.count > 1 ? 'commentaires' : 'commentaire'} de plus${frMods(d)}.`;
const enSentence = (verb, d) => `Over the last 30 days, this change would have ${verb} ${d.count} more ${d.count === 1 ? 'comment' : 'comments'}${enMods(d)}.`;
const statusText = (page) => page.$eval('#status', (p) => p.textContent);

try {
  step = 'sign in';
  const { context, page } = await newPage();
  await signIn(page);

  // ---- decide a pending comment (reject, spam) by keyboard ------------------------------------
  step = 'reject a pending comment';
  const rejected = await currentId(page);
  await page.keyboard.press('r');
  await page.waitForSelector('#picker:not([hidden])');
  await page.keyboard.press('1');
  await page.waitForFunction((id) => Number(document.querySelector('#panel').dataset.id) !== id, rejected);
  assert.equal((await api(adminKey, 'GET', '/v1/comments/' + rejected + '/history')).body.decisions.at(-1).to_status, 'rejected');

  // ---- restore it from the "rejected" view ------------------------------------------------------
  step = 'restore from rejected';
  await page.click('[data-nav="rejected"]');
  await page.waitForSelector('#list li[data-id="' + rejected + '"]');
  await page.waitForFunction(() => document.querySelector('#list-title').textContent === 'Rejetés');
  await page.click('#list li[data-id="' + rejected + '"]');
  await page.waitForFunction((id) => Number(document.querySelector('#panel').dataset.id) === id, rejected);
  assert.equal(await page.$eval('#btn-restore', (b) => b.disabled), false, 'restore offered');
  assert.equal(await page.$eval('#btn-approve', (b) => b.disabled), true, 'approve is not a transition of a rejected comment');
  assert.ok(Number(await page.$eval('#count-rejected', (b) => b.textContent)) >= 1);
  await page.keyboard.press('o');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('rétabli'));
  assert.equal(await statusText(page), 'Commentaire ' + rejected + ' rétabli (approuvé).');
  const history = (await api(adminKey, 'GET', '/v1/comments/' + rejected + '/history')).body.decisions;
  assert.equal(history.at(-1).action, 'restore');
  assert.equal(history.at(-1).to_status, 'approved');
  await page.click('[data-nav="approved"]');
  await page.waitForSelector('#list li[data-id="' + rejected + '"]');
  await page.screenshot({ path: path.join(out, 'approved-view.png') });

  // ---- search the text (% literal), from the keyboard ------------------------------------------
  step = 'search';
  await page.click('[data-nav="pending"]');
  await page.waitForFunction(() => document.querySelector('#list-title').textContent === 'À modérer');
  await page.waitForSelector('#list li.current');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search-q', '/ focuses the search');
  await page.keyboard.type('100%');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#list li').length === 1);
  assert.match(await page.$eval('#list li', (li) => li.textContent), /100 ?%/);
  const found = await page.$eval('#list li', (li) => Number(li.dataset.id));
  await page.fill('#search-q', 'zzz-introuvable');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#list li').length === 0);
  await page.fill('#search-q', '');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#list li').length > 1);

  // ---- the author's record: history and a note --------------------------------------------------
  step = 'author record';
  await page.click('#list li[data-id="' + found + '"]');
  await page.waitForSelector('#panel a.author-open');
  await page.click('#panel a.author-open');
  await page.waitForSelector('#view-author:not([hidden])');
  await page.waitForSelector('#author-comments li[data-id="' + found + '"]');
  assert.ok(await page.$$eval('#author-comments li', (l) => l.length) >= 2, 'every comment of the author');
  await page.waitForSelector('#notes-list li');
  await page.fill('#note-text', 'Lecteur insistant, toujours poli.');
  await page.click('#note-add');
  await page.waitForSelector('#notes-list li[data-note]');
  assert.match(await page.$eval('#notes-list li[data-note]', (li) => li.textContent), /toujours poli/);
  await page.screenshot({ path: path.join(out, 'author-record.png') });

  // ---- the audit log: filtered, exported -------------------------------------------------------
  step = 'audit log';
  await page.click('[data-nav="audit"]');
  await page.waitForSelector('#audit-list tr[data-decision]');
  await page.selectOption('#audit-filters select[name="action"]', 'restore');
  await page.click('#audit-refresh');
  await page.waitForFunction(() => document.querySelectorAll('#audit-list tr[data-decision]').length === 1);
  const row = await page.$eval('#audit-list tr[data-decision]', (tr) => tr.textContent);
  assert.ok(row.includes('#' + rejected) && row.includes('restore'), row);
  // from where: the console, and the admin sees the network
  const from = await page.$eval('#audit-list tr[data-decision] td.origin', (td) => td.textContent);
  assert.equal(from, 'console · 127.0.0.0/24');
  const href = await page.$eval('#audit-csv', (a) => a.getAttribute('href'));
  assert.equal(href, '/v1/decisions.csv?action=restore');
  const csv = await page.evaluate(async (h) => (await fetch(h)).text(), href);
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'id,created_at,actor,source,action,from_status,to_status,reason,comment_id,internal_note,note_to_author,origin,network');
  assert.equal(lines.length, 2, csv);
  assert.ok(lines[1].includes(',restore,rejected,approved,,' + rejected + ','), lines[1]);
  await page.screenshot({ path: path.join(out, 'audit-log.png') });

  // ---- site settings: the API's 422 next to its field, then saved -------------------------------
  step = 'settings';
  await page.click('[data-nav="settings"]');
  await page.waitForFunction(() => document.querySelector('#set-hide').value !== '');
  await page.fill('#set-hide', '0.1');
  await page.click('#site-save');
  await page.waitForFunction(() => document.querySelector('[data-error="report_hide_threshold"]').textContent.length > 0);
  await page.fill('#set-hide', '4');
  await page.selectOption('#set-unscored', 'allow');
  // new-author pre-moderation over its limit: refused by its field
  await page.fill('#set-newauthor', '101');
  await page.click('#site-save');
  await page.waitForFunction(() => document.querySelector('[data-error="new_author_premod"]').textContent.length > 0);
  await page.fill('#set-newauthor', '2');
  await page.fill('#set-appeal', 'Pour contester, écrivez à moderation@example.fr.');
  // a value typed in the thresholds form, not saved yet, survives saving the site form
  await page.fill('#th-tox-review', '0.77');
  await page.click('#site-save');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'Réglages enregistrés.');
  // (the console once refilled both forms after a save: give such a refill time to land)
  await page.waitForTimeout(500);
  assert.equal(await page.$eval('#th-tox-review', (n) => n.value), '0.77', 'the thresholds form keeps what was typed');
  const site = (await api(adminKey, 'GET', '/v1/site')).body;
  assert.equal(site.report_hide_threshold, 4);
  assert.equal(site.unscored_language, 'allow');
  assert.equal(site.new_author_premod, 2);
  assert.equal(site.appeal_text, 'Pour contester, écrivez à moderation@example.fr.');
  assert.equal(await page.$eval('#set-newauthor', (n) => n.value), '2', 'reloaded from the API');
  // off again (through the API: the form's reload would race the threshold fields below), so
  // that the steps below post as before
  assert.equal((await api(adminKey, 'PATCH', '/v1/site', { new_author_premod: 0 })).body.new_author_premod, 0);
  assert.equal(await page.$eval('[data-error="report_hide_threshold"]', (n) => n.textContent), '');
  await page.fill('#th-tox-review', '0.9');
  await page.fill('#th-tox-reject', '0.5');
  await page.click('#thresholds-save');
  await page.waitForFunction(() => document.querySelector('[data-error="toxicity"]').textContent.length > 0);

  // ---- the word lists, entry by entry ----------------------------------------------------------
  step = 'word lists';
  await page.waitForSelector('#words-list tr[data-words="fr-slur"]');
  await page.fill('#words-new-id', 'mauvais id');
  await page.fill('#words-new-terms', 'zorglub');
  await page.click('#words-new-add');
  await page.waitForFunction(() => document.querySelector('#words-add [data-error="id"]').textContent.length > 0);
  await page.fill('#words-new-id', 'site-test');
  await page.fill('#words-new-lang', 'fr');
  await page.selectOption('#words-new-action', 'block');
  await page.fill('#words-new-terms', 'zorglub, bulgroz');
  await page.click('#words-new-add');
  await page.waitForSelector('#words-list tr[data-words="site-test"]');
  const row2 = '#words-list tr[data-words="site-test"]';
  assert.equal(await page.$eval(row2 + ' .words-terms', (i) => i.value), 'zorglub, bulgroz');
  await page.selectOption(row2 + ' .words-action', 'flag');
  await page.fill(row2 + ' .words-terms', 'zorglub, bulgroz, glubzor');
  await page.evaluate(() => { document.querySelector('#status').textContent = ''; });
  await page.click(row2 + ' .words-save');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'Liste site-test enregistrée.');
  const words = (await api(adminKey, 'GET', '/v1/site/rules/words')).body.items.find((w) => w.id === 'site-test');
  assert.deepEqual({ action: words.action, lang: words.lang, terms: words.terms }, { action: 'flag', lang: 'fr', terms: ['zorglub', 'bulgroz', 'glubzor'] });
  await page.fill(row2 + ' .words-lang', 'FRA');
  await page.click(row2 + ' .words-save');
  await page.waitForFunction((r) => document.querySelector(r + ' .field-error').textContent.startsWith('lang'), row2);
  const rules = (await api(adminKey, 'GET', '/v1/site/rules')).body;
  assert.equal(rules.version, 2, 'two saved versions: the add and the change');
  assert.equal(rules.updated_by, 'test');

  // ---- previews: another admin's backtest runs → 409, shown as API errors are -----------------
  step = 'preview: 409 while another backtest runs';
  await fillThresholds(page);
  await page.evaluate(() => { document.querySelector('#status').textContent = ''; });
  await page.click('#thresholds-preview');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('already queued or running'));
  assert.equal(await page.$eval('#status', (p) => p.className), 'status error');
  assert.equal(await page.$eval('#thresholds-backtest', (b) => b.hidden), true, 'no preview started');

  // ---- progress (polled) and Cancel, from the keyboard ----------------------------------------
  // POST answers with that other backtest (still running, 120 of 300): the console follows it
  // through the real GET and cancels it through the real DELETE.
  step = 'preview: progress and cancel';
  const follow = (route) => (route.request().method() === 'POST'
    ? route.fulfill({ status: 202, contentType: 'application/json',
      body: JSON.stringify({ id: previews.running, status: 'queued', progress: { done: 0, total: 0 } }) })
    : route.continue());
  await page.route('**/v1/backtests', follow);
  await page.click('#thresholds-preview');
  await page.waitForFunction(() => (document.querySelector('#thresholds-backtest .bt-progress') || {}).textContent
    === 'Simulation : 120 / 300 commentaires évalués…');
  assert.deepEqual(await page.$eval('#thresholds-backtest progress', (p) => [p.value, p.max]), [120, 300]);
  assert.equal(await page.$eval('#thresholds-backtest .bt-what', (p) => p.textContent),
    `Seuils essayés (examen / rejet) : toxicité ${th.toxicity.review} / ${th.toxicity.reject}, spam ${th.spam.review} / ${th.spam.reject}`);
  await page.focus('#thresholds-model');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'bt-cancel', 'Cancel is the next stop');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#thresholds-backtest .bt-sentence').textContent === 'Simulation annulée.');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'bt-sentence', 'the focus stays on the preview');
  assert.equal(await page.$$eval('#thresholds-backtest .bt-cancel', (b) => b.length), 0);
  assert.equal((await api(adminKey, 'GET', '/v1/backtests/' + previews.running)).body.status, 'cancelled');
  await page.unroute('**/v1/backtests', follow);

  // ---- stricter thresholds: the sentence, precision/recall, the examples ------------------------
  step = 'preview: stricter thresholds';
  const held = previews.held;
  await page.click('#thresholds-preview');
  const sentence = await previewSentence(page, '#thresholds-backtest', 'Sur les 30 derniers jours');
  const job = await jobOf(page, '#thresholds-backtest');
  assert.equal(job.status, 'done');
  assert.equal(job.rules, null, 'the site\'s rules');
  assert.ok(Math.abs(job.thresholds.toxicity.review - th.toxicity.review) < 1e-6, JSON.stringify(job.thresholds));
  assert.deepEqual(job.result.newly_held, held, 'the console ran what the Rust test ran');
  assert.equal(sentence, frSentence('retenu', held));
  const labelled = job.result.human.after.labelled;
  assert.match(await page.$eval('#thresholds-backtest .bt-quality', (p) => p.textContent),
    new RegExp(`^Face aux décisions des modérateurs \\(${labelled} commentaires?\\) : précision .+ → .+, rappel .+ → .+\\.$`));
  assert.equal(await statusText(page), sentence, 'announced in the status line');
  const heldIds = await page.$$eval('#thresholds-backtest ul[data-kind="held"] > li', (l) => l.map((li) => Number(li.dataset.comment)));
  assert.deepEqual(heldIds, job.result.examples.newly_held.slice(0, 10).map((x) => x.comment_id));
  const firstReason = job.result.examples.newly_held[0].reasons[0];
  if (firstReason) assert.ok((await page.$eval('#thresholds-backtest ul[data-kind="held"] > li', (li) => li.textContent)).includes(firstReason));
  const show = '#thresholds-backtest ul[data-kind="held"] > li:first-child .bt-show';
  await page.focus(show);
  await page.keyboard.press('Enter');
  await page.waitForFunction((s) => document.querySelector(s).getAttribute('aria-expanded') === 'true', show);
  assert.equal(await page.$eval('#thresholds-backtest ul[data-kind="held"] > li:first-child .body', (b) => b.textContent),
    (await api(adminKey, 'GET', '/v1/comments/' + heldIds[0])).body.body);
  await page.$eval('#thresholds-backtest', (b) => b.scrollIntoView());
  await page.screenshot({ path: path.join(out, 'preview-thresholds.png') });

  // ---- a word list before it is added: the API's 422 (line) by its field, then the sentence -----
  step = 'preview: a new word list';
  const rulesBefore = (await api(adminKey, 'GET', '/v1/site/rules')).body;
  await page.fill('#words-new-id', 'apercu-fibre');
  await page.fill('#words-new-lang', 'fr');
  await page.selectOption('#words-new-action', 'block');
  await page.fill('#words-new-terms', '!!!');
  await page.click('#words-new-preview');
  await page.waitForFunction(() => document.querySelector('#words-add [data-error="terms"]').textContent.length > 0);
  assert.match(await page.$eval('#words-add [data-error="terms"]', (n) => n.textContent), /^line \d+: term `!!!` is empty after normalisation/);
  await page.fill('#words-new-terms', previews.words.term);
  await page.click('#words-new-preview');
  const wordsRejected = previews.words.rejected;
  assert.equal(await previewSentence(page, '#words-backtest', 'Sur les 30'), frSentence('rejeté', wordsRejected));
  assert.equal(await page.$eval('#words-add [data-error="terms"]', (n) => n.textContent), '');
  assert.equal(await page.$eval('#words-backtest .bt-what', (p) => p.textContent), 'Ajout de la liste apercu-fibre');
  const added = await jobOf(page, '#words-backtest');
  assert.deepEqual(added.result.newly_rejected, wordsRejected);
  // the API applied the edit as saving it would: the list added after the site's last one
  const table = '[[words]]\nid = "apercu-fibre"\nlang = "fr"\naction = "block"\ncategory = "toxicity"\nterms = ["fibre"]\n';
  const tableAt = added.rules.indexOf(table);
  assert.ok(tableAt > 0, 'the new list in the file tried');
  assert.equal(added.rules.slice(0, tableAt) + added.rules.slice(tableAt + table.length + 1), rulesBefore.source,
    'the site\'s file with that one list added');
  assert.deepEqual(await page.$$eval('#words-backtest ul[data-kind="rejected"] > li', (l) => l.map((li) => Number(li.dataset.comment))),
    added.result.examples.newly_rejected.map((x) => x.comment_id));

  // ---- a list changed in its row, before it is saved -------------------------------------------
  step = 'preview: a changed word list';
  await page.fill(row2 + ' .words-lang', 'fr');
  await page.selectOption(row2 + ' .words-action', 'block');
  await page.fill(row2 + ' .words-terms', 'zorglub, fibre');
  await page.click(row2 + ' .words-preview');
  await page.waitForFunction(() => document.querySelector('#words-backtest .bt-what').textContent === 'Modification de la liste site-test');
  assert.equal(await previewSentence(page, '#words-backtest', 'Sur les 30'), frSentence('rejeté', wordsRejected));
  const changed = await jobOf(page, '#words-backtest');
  assert.deepEqual(changed.result.newly_rejected, wordsRejected);
  const at = rulesBefore.source.indexOf('[[words]]\nid = "site-test"');
  assert.ok(at > 0, 'the list in the stored file');
  assert.equal(changed.rules.slice(0, at), rulesBefore.source.slice(0, at), 'the file before the list as it was');
  assert.ok(changed.rules.includes('[[words]]\nid = "site-test"\nlang = "fr"\naction = "block"\ncategory = "toxicity"\nterms = ["zorglub", "fibre"]\n'), changed.rules.slice(at));
  assert.equal(changed.rules.split('id = "site-test"').length, 2, 'rewritten in its place, once');
  assert.equal(await page.$eval(row2 + ' .field-error', (n) => n.textContent), '');
  // Previews save nothing.
  const rulesAfter = (await api(adminKey, 'GET', '/v1/site/rules')).body;
  assert.equal(rulesAfter.version, rulesBefore.version);
  assert.equal(rulesAfter.source, rulesBefore.source);
  assert.equal((await api(adminKey, 'GET', '/v1/site')).body.thresholds, null, 'thresholds not saved');
  await page.$eval('#words-backtest', (b) => b.scrollIntoView());
  await page.screenshot({ path: path.join(out, 'preview-words.png') });

  // ---- an article closed before its first comment ---------------------------------------------
  step = 'thread before its first comment';
  await page.fill('#thread-id', 'embargo-2027');
  await page.selectOption('#thread-status', 'closed');
  await page.fill('#thread-title', 'Sous embargo');
  await page.click('#thread-save');
  await page.waitForFunction(() => document.querySelector('#thread-result').textContent.includes('créé'));
  const refused = await api(ingestKey, 'POST', '/v1/comments', {
    external_id: 'trop-tot', thread: { id: 'embargo-2027' },
    author: { id: 'u-9', name: 'Lecteur', email: 'u-9@example.fr' }, body: 'Premier !', lang: 'fr',
    client: { ip: '192.0.2.10', user_agent: 'Mozilla/5.0' },
  });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  await page.screenshot({ path: path.join(out, 'settings.png'), fullPage: true });

  // ---- the settings log: who changed what, from where ------------------------------------------
  step = 'settings log';
  await page.click('[data-nav="audit"]');
  await page.waitForFunction(() => (document.querySelector('#changes-list tr[data-change] td.summary') || {}).textContent === 'thread `embargo-2027` set up before its first comment: status closed, address or title');
  const changes = await page.$$eval('#changes-list tr[data-change]', (rows) => rows.map((r) => [r.querySelector('td.origin').textContent, r.querySelector('td.summary').textContent]));
  // the form's save came from the console, the API call from a key
  const saved = changes.find(([, what]) => what.includes('new_author_premod: 0 → 2'));
  assert.ok(saved && saved[0] === 'console · 127.0.0.0/24', JSON.stringify(changes));
  const off = changes.find(([, what]) => what === 'new_author_premod: 2 → 0');
  assert.ok(off && off[0] === 'API · 127.0.0.0/24', JSON.stringify(changes));
  assert.ok(changes.some(([, what]) => what.startsWith('word list `')), JSON.stringify(changes));
  await (await page.$('#changes-box')).screenshot({ path: path.join(out, 'settings-log.png') });

  // ---- English strings --------------------------------------------------------------------------
  step = 'english';
  await page.click('#btn-lang');
  await page.waitForFunction(() => document.querySelector('[data-nav="rejected"] span').textContent === 'Rejected');
  assert.equal(await page.$eval('#btn-signout-all', (b) => b.textContent), 'Sign out everywhere');
  await page.click('[data-nav="settings"]');
  assert.equal(await page.$eval('#thresholds-preview', (b) => b.textContent), 'Preview on the last 30 days');
  assert.equal(await page.$eval('#thresholds-backtest .bt-sentence', (p) => p.textContent), enSentence('held', held));
  assert.equal(await page.$eval('#words-backtest .bt-sentence', (p) => p.textContent), enSentence('rejected', wordsRejected));
  assert.equal(await page.$eval('#words-backtest .bt-what', (p) => p.textContent), 'Changing list site-test');
  await page.click('#btn-lang');

  // ---- a new view at phone width (390 px) -------------------------------------------------------
  step = 'phone width';
  const { context: cp, page: pp } = await newPage({ width: 390, height: 844 });
  await signIn(pp);
  await pp.evaluate(() => { location.hash = '#/queue/approved'; });
  await pp.waitForSelector('#list li[data-id="' + rejected + '"]');
  await pp.click('#list li[data-id="' + rejected + '"]');
  await pp.waitForFunction((id) => Number(document.querySelector('#panel').dataset.id) === id, rejected);
  assert.ok(await pp.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scroll');
  const box = await pp.$eval('#panel', (p) => { const r = p.getBoundingClientRect(); return { left: r.left, right: r.right }; });
  assert.ok(box.left >= 0 && box.right <= 390, 'the comment fits the width: ' + JSON.stringify(box));
  await pp.screenshot({ path: path.join(out, 'approved-phone.png') });
  await pp.evaluate(() => { location.hash = '#/audit'; });
  await pp.waitForSelector('#audit-list tr[data-decision]');
  assert.ok(await pp.evaluate(() => document.documentElement.scrollWidth <= 390), 'audit log: no page-wide horizontal scroll');
  await pp.screenshot({ path: path.join(out, 'audit-phone.png') });

  step = 'preview at phone width';
  await pp.evaluate(() => { location.hash = '#/settings'; });
  await pp.waitForFunction(() => document.querySelector('#th-tox-review').value !== '');
  await fillThresholds(pp);
  await pp.click('#thresholds-preview');
  assert.equal(await previewSentence(pp, '#thresholds-backtest', 'Sur les 30'), frSentence('retenu', held));
  await pp.click('#thresholds-backtest ul[data-kind="held"] > li:first-child .bt-show');
  await pp.waitForSelector('#thresholds-backtest ul[data-kind="held"] > li:first-child .body:not([hidden])');
  assert.ok(await pp.evaluate(() => document.documentElement.scrollWidth <= 390), 'preview: no horizontal scroll');
  const pbox = await pp.$eval('#thresholds-backtest', (p) => { const r = p.getBoundingClientRect(); return { left: r.left, right: r.right }; });
  assert.ok(pbox.left >= 0 && pbox.right <= 390, 'the preview fits the width: ' + JSON.stringify(pbox));
  await pp.$eval('#thresholds-backtest', (b) => b.scrollIntoView());
  await pp.screenshot({ path: path.join(out, 'preview-phone.png') });

  step = 'preview without comments in the period';
  const { context: ce, page: pe } = await newPage({ width: 390, height: 844 });
  await pe.goto(base + '/console');
  await pe.fill('#signin-key', previews.empty_site_admin);
  await pe.click('#signin-submit');
  await pe.waitForSelector('#app:not([hidden])');
  await pe.evaluate(() => { location.hash = '#/settings'; });
  await pe.waitForFunction(() => document.querySelector('#th-tox-review').value !== '');
  await pe.click('#thresholds-preview');
  assert.equal(await previewSentence(pe, '#thresholds-backtest', 'Aucun'), 'Aucun commentaire sur la période.');
  assert.equal(await statusText(pe), 'Aucun commentaire sur la période.');
  assert.equal(await pe.$$eval('#thresholds-backtest .bt-examples li', (l) => l.length), 0);
  await ce.close();

  // ---- sign out everywhere: both sessions end -----------------------------------------------------
  step = 'sign out everywhere';
  await page.click('#btn-signout-all');
  await page.waitForSelector('#signin:not([hidden])');
  await pp.reload();
  await pp.waitForSelector('#signin:not([hidden])');
  await cp.close();
  await context.close();

  assert.deepEqual(dialogs, [], 'no dialog fired during the run');
  assert.deepEqual(pageErrors, [], 'no uncaught page error');
  console.log('screenshots: ' + ['approved-view.png', 'author-record.png', 'audit-log.png', 'settings.png', 'preview-thresholds.png', 'preview-words.png',
    'approved-phone.png', 'audit-phone.png', 'preview-phone.png'].map((f) => path.join(out, f)).join(' '));
  console.log('browser tests passed');
  await browser.close();
} catch (e) {
  console.error('FAILED at step "' + step + '": ' + (e && e.stack ? e.stack : e));
  console.error('dialogs: ' + JSON.stringify(dialogs) + ' page errors: ' + JSON.stringify(pageErrors));
  await browser.close().catch(() => {});
  process.exit(1);
}
