// End-to-end tests of the moderator console in Debian's headless Chromium, with playwright-core.
// Run by tests/console.rs (`cargo test --test console`), which starts Vigie on a random port with
// seeded data:  node console.spec.mjs <base-url> <moderator-key> [<moderator-key-of-10k-site> [<admin-key>]]
// Screenshots go to $E2E_OUT (target/e2e). Prints E2E-METRICS {json} with the timings.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const [base, key, bigKey, adminKey] = process.argv.slice(2);
if (!base || !key) {
  console.error('usage: node console.spec.mjs <base-url> <moderator-key> [<big-site-key>]');
  process.exit(2);
}
const out = process.env.E2E_OUT || path.resolve('../../target/e2e');
mkdirSync(out, { recursive: true });
const executablePath = process.env.VIGIE_CHROMIUM || '/usr/bin/chromium';

// Playwright gives every launch() a fresh, empty user data dir of its own.
const browser = await chromium.launch({
  executablePath,
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
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

let step = 'start';
const metrics = {};
const dialogs = [];
const pageErrors = [];

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(10000);
  return { context, page };
}

async function signIn(page, k) {
  await page.goto(base + '/console');
  await page.waitForSelector('#signin-key');
  await page.fill('#signin-key', k);
  await page.click('#signin-submit');
  await page.waitForSelector('#list li.current');
}
const currentId = (page) => page.$eval('#panel', (p) => p.dataset.id);

// Press `keys` on the current item; wait until the panel shows another one; the time it took.
async function decideByKeyboard(page, keys) {
  const before = await currentId(page);
  const t0 = performance.now();
  for (const k of keys) await page.keyboard.press(k);
  await page.waitForFunction((id) => document.querySelector('#panel').dataset.id !== id, before);
  const wall = performance.now() - t0;
  const inPage = await page.evaluate(() => window.__vigie.lastDecisionMs);
  return { id: Number(before), wall, inPage };
}

try {
  // ---- sign in -------------------------------------------------------------------------
  step = 'sign in';
  const { context, page } = await newPage();
  await page.goto(base + '/console');
  await page.fill('#signin-key', 'vigie_not_a_key');
  await page.click('#signin-submit');
  await page.waitForFunction(() => document.querySelector('#signin-error').textContent.length > 0);
  await signIn(page, key);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'vigie_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('vigie_session')), false, 'cookie hidden from scripts');
  assert.equal(await page.textContent('[data-nav="pending"] [data-i18n]'), 'À modérer', 'French by default');

  // ---- the XSS comment renders inert ------------------------------------------------------
  step = 'xss';
  const xss = '<script>alert(1)</script><img src=x onerror=alert(2)>';
  const rows = await page.$$('#list li');
  let xssRow = null;
  for (const r of rows) if ((await r.textContent()).includes('<script>alert(1)')) xssRow = r;
  assert.ok(xssRow, 'the XSS comment is listed, as text');
  await xssRow.click();
  await page.waitForFunction((s) => document.querySelector('#panel .body')?.textContent.includes(s), xss);
  assert.equal(await page.$$eval('#panel img, #list img, #panel script, #list script', (n) => n.length), 0, 'no element made of comment text');
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no dialog fired');
  const xssId = Number(await currentId(page));
  // It is still pending: looking at it decided nothing.
  assert.equal((await api(key, 'GET', '/v1/comments/' + xssId)).body.status, 'pending');

  // ---- approve a held comment with the keyboard ---------------------------------------------
  step = 'approve';
  await page.keyboard.press('j');
  await page.waitForFunction((id) => document.querySelector('#panel').dataset.id !== String(id), xssId);
  const claimedId = Number(await currentId(page));
  // The item the moderator moved to is claimed by them.
  for (let tries = 0; ; tries++) {
    const q = await api(key, 'GET', '/v1/queues/pending?limit=200');
    const it = q.body.items.find((i) => i.comment.id === claimedId);
    if (it && it.claim) break;
    assert.ok(tries < 50, 'the current item is claimed');
    await new Promise((r) => setTimeout(r, 50));
  }
  const small = [];
  const approved = await decideByKeyboard(page, ['a']);
  small.push(approved);
  assert.equal(approved.id, claimedId);
  assert.equal((await api(key, 'GET', '/v1/comments/' + approved.id)).body.status, 'approved');
  for (let i = 0; i < 3; i++) small.push(await decideByKeyboard(page, ['a']));

  // ---- escalate, author action -------------------------------------------------------------
  step = 'escalate';
  const escalated = await decideByKeyboard(page, ['e']);
  const eh = await api(key, 'GET', '/v1/comments/' + escalated.id + '/history');
  assert.equal(eh.body.decisions[eh.body.decisions.length - 1].action, 'escalate');
  step = 'author';
  const authorId = await page.$eval('#panel dl.kv dd', (d) => d.textContent);
  await page.keyboard.press('b');
  await page.waitForSelector('#picker:not([hidden])');
  await page.keyboard.press('1');
  await page.waitForFunction(() => /Motif/.test(document.querySelector('#picker-title').textContent));
  await page.keyboard.press('0');
  await page.waitForFunction(() => /premod/.test(document.querySelector('#status').textContent));
  const byAuthor = await api(key, 'GET', '/v1/queues/pending?author=' + encodeURIComponent(authorId));
  assert.ok(byAuthor.body.items.length > 0 && byAuthor.body.items.every((i) => i.author.status === 'premod'), 'author pre-moderated');

  // ---- reject one with a reason -------------------------------------------------------------
  step = 'reject';
  const before = Number(await currentId(page));
  await page.keyboard.press('r');
  await page.waitForSelector('#picker:not([hidden])');
  assert.match(await page.textContent('#picker-options'), /2 — insulte/);
  const rejected = await decideByKeyboard(page, ['2']);
  assert.equal(rejected.id, before);
  const hist = await api(key, 'GET', '/v1/comments/' + before + '/history');
  const last = hist.body.decisions[hist.body.decisions.length - 1];
  assert.equal(last.to_status, 'rejected');
  assert.equal(last.reason, 'insult');

  // ---- bulk-reject three --------------------------------------------------------------------
  step = 'bulk';
  const chosen = [];
  while (chosen.length < 3) {
    const id = Number(await currentId(page));
    const isXss = id === xssId;
    if (!isXss && !chosen.includes(id)) { await page.keyboard.press('x'); chosen.push(id); }
    await page.keyboard.press('j');
    await page.waitForTimeout(30);
  }
  assert.equal(await page.$$eval('#list li input:checked', (n) => n.length), 3);
  await page.keyboard.press('R');
  await page.waitForSelector('#picker:not([hidden])');
  await page.keyboard.press('1');
  await page.waitForFunction(() => document.querySelectorAll('#list li input:checked').length === 0);
  for (const id of chosen) {
    const c = await api(key, 'GET', '/v1/comments/' + id);
    assert.equal(c.body.status, 'rejected', 'bulk-rejected ' + id);
  }

  // ---- help overlay and the item view screenshot ---------------------------------------------
  step = 'help';
  await page.keyboard.press('?');
  await page.waitForSelector('#help:not([hidden])');
  assert.match(await page.textContent('#help-list'), /approuver/);
  await page.keyboard.press('Escape');
  // The comment with rule words: the spans fall exactly on the words (UTF-8 offsets mapped).
  let rude = null;
  for (const r of await page.$$('#list li')) if ((await r.textContent()).includes('crétin')) rude = r;
  assert.ok(rude, 'the rude comment is listed');
  await rude.click();
  await page.waitForFunction(() => document.querySelector('#panel .body')?.textContent.includes('crétin'));
  const marked = await page.$$eval('#panel .body mark.rule', (n) => n.map((m) => m.textContent));
  assert.ok(marked.includes('crétin') && marked.includes('débile'), 'rule spans: ' + JSON.stringify(marked));
  // The author's record lists their recent comments with outcomes.
  await page.waitForFunction(() => document.querySelectorAll('#panel .author-recent li').length >= 1);
  await page.screenshot({ path: path.join(out, 'item-view.png') });

  // ---- reported comment with its reports ----------------------------------------------------
  step = 'reported';
  await page.goto(base + '/console#/queue/reported');
  await page.waitForFunction(() => document.querySelector('#panel .reports'));
  const reportsText = await page.textContent('#panel .reports');
  assert.match(reportsText, /Ce commentaire insulte la rédaction\./);
  assert.match(reportsText, /misinformation/);
  assert.match(await page.textContent('#panel'), /2 signalement\(s\) ouvert\(s\)/);
  await page.screenshot({ path: path.join(out, 'reported-view.png') });

  // ---- English -------------------------------------------------------------------------------
  step = 'language';
  await page.click('#btn-lang');
  await page.waitForFunction(() => document.querySelector('[data-nav="pending"] [data-i18n]').textContent === 'To review');
  await page.reload();
  await page.waitForSelector('#panel .reports');
  assert.equal(await page.textContent('[data-nav="pending"] [data-i18n]'), 'To review', 'language kept with the session');
  await page.click('#btn-lang');

  // ---- appeals ------------------------------------------------------------------------------
  step = 'appeals';
  await page.goto(base + '/console#/appeals');
  await page.waitForSelector('#appeals-list .appeal');
  const appealCard = await page.$('#appeals-list .appeal');
  assert.match(await appealCard.textContent(), /Mon commentaire parlait bien du budget\./);
  const appealId = Number(await appealCard.getAttribute('data-appeal'));
  await page.fill('#appeals-list .appeal textarea', 'Le commentaire reste hors sujet : la décision est maintenue.');
  await page.click('#appeals-list .appeal button:first-of-type');
  await page.waitForFunction(() => !document.querySelector('#appeals-list .appeal'));
  const upheld = await api(key, 'GET', '/v1/appeals?status=upheld');
  assert.ok(upheld.body.some((a) => a.appeal.id === appealId && /maintenue/.test(a.appeal.reply)), 'appeal upheld with its reply');

  // ---- dashboard -----------------------------------------------------------------------------
  step = 'dashboard';
  await page.goto(base + '/console#/dashboard');
  await page.waitForSelector('#svg-days');
  await page.waitForSelector('#svg-hist line.threshold', { state: 'attached' });
  assert.equal(await page.$$eval('#svg-hist line.threshold', (n) => n.length), 2, 'review and reject thresholds drawn');
  assert.ok(await page.$$eval('#svg-days rect', (n) => n.length) > 4, 'bars of decisions per day');
  assert.equal(await page.isHidden('#chart-median'), true, 'median hidden for a moderator key');
  await page.screenshot({ path: path.join(out, 'dashboard.png'), fullPage: true });

  // ---- sign-out releases claims and ends the session ---------------------------------------
  step = 'sign out';
  await page.goto(base + '/console#/queue/pending');
  await page.waitForSelector('#list li.current');
  await page.click('#btn-signout');
  await page.waitForSelector('#signin:not([hidden])');
  const q = await api(key, 'GET', '/v1/queues/pending?limit=200');
  assert.equal(q.body.items.filter((i) => i.claim).length, 0, 'no claim left after sign-out');
  assert.equal((await context.cookies()).filter((c) => c.name === 'vigie_session' && c.value).length, 0);
  await context.close();

  // ---- an admin also sees the median time from report to decision -----------------------------
  if (adminKey) {
    step = 'admin dashboard';
    // Decide the reported comment, so that a notice has an action.
    const reported = await api(adminKey, 'GET', '/v1/queues/reported');
    await api(adminKey, 'POST', '/v1/comments/' + reported.body.items[0].comment.id + '/decisions', { action: 'reject', reason: 'insult' });
    const { context: c3, page: p3 } = await newPage();
    await signIn(p3, adminKey);
    await p3.goto(base + '/console#/dashboard');
    await p3.waitForSelector('#chart-median .big');
    assert.match(await p3.textContent('#chart-median .big'), /^\d+(\.\d)? (h|min|s)$/);
    assert.equal(await p3.isHidden('#chart-median'), false);
    await p3.waitForSelector('#svg-hist');
    await p3.screenshot({ path: path.join(out, 'dashboard-admin.png'), fullPage: true });
    await p3.click('#btn-signout');
    await c3.close();
  }

  metrics.decision_small_queue_ms = {
    wall: small.map((s) => Math.round(s.wall)), in_page: small.map((s) => Math.round(s.inPage)),
  };

  // ---- 10,000 pending comments: first render and keyboard decisions ---------------------------
  if (bigKey) {
    step = '10k queue';
    const { context: c2, page: p2 } = await newPage();
    await signIn(p2, bigKey);
    const renders = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await p2.reload();
      await p2.waitForSelector('#list li.current');
      await p2.waitForFunction(() => document.querySelector('#panel').dataset.id);
      renders.push({ wall: performance.now() - t0, inPage: await p2.evaluate(() => window.__vigie.firstRenderMs) });
    }
    const counts = await api(bigKey, 'GET', '/v1/queues');
    assert.ok(counts.body.pending >= 10000, 'the queue holds 10,000 comments');
    const decisions = [];
    for (let i = 0; i < 20; i++) decisions.push(await decideByKeyboard(p2, ['a']));
    await p2.screenshot({ path: path.join(out, 'queue-10k.png') });
    await c2.close();
    metrics.queue_pending = counts.body.pending;
    metrics.first_render_ms = {
      wall: renders.map((r) => Math.round(r.wall)), in_page: renders.map((r) => Math.round(r.inPage)),
      median_wall: Math.round(median(renders.map((r) => r.wall))),
    };
    metrics.decision_to_next_ms = {
      median_wall: Math.round(median(decisions.map((d) => d.wall))),
      max_wall: Math.round(Math.max(...decisions.map((d) => d.wall))),
      median_in_page: Math.round(median(decisions.map((d) => d.inPage))),
      max_in_page: Math.round(Math.max(...decisions.map((d) => d.inPage))),
    };
    assert.ok(metrics.first_render_ms.median_wall <= 1000, 'first render of 10,000 ≤ 1 s');
    assert.ok(metrics.decision_to_next_ms.median_in_page <= 150, 'decision → next item ≤ 150 ms');
  }

  assert.deepEqual(dialogs, [], 'no dialog fired during the run');
  assert.deepEqual(pageErrors, [], 'no uncaught page error');
  console.log('E2E-METRICS ' + JSON.stringify(metrics));
  console.log('screenshots: ' + ['item-view.png', 'reported-view.png', 'dashboard.png', 'dashboard-admin.png', 'queue-10k.png'].map((f) => path.join(out, f)).join(' '));
  console.log('browser tests passed');
  await browser.close();
} catch (e) {
  console.error('FAILED at step "' + step + '": ' + (e && e.stack ? e.stack : e));
  console.error('dialogs: ' + JSON.stringify(dialogs) + ' page errors: ' + JSON.stringify(pageErrors));
  await browser.close().catch(() => {});
  process.exit(1);
}
