// End-to-end tests of named accounts in the console, in Debian's headless Chromium: an admin's
// invitation → password → sign-in → invites a moderator from the Team view; the moderator's
// invitation → password → sign-in → decides a pending comment → enrols a TOTP second factor →
// signs out → signs in with password and code → signs out; failed sign-ins are
// rate-limited; the admin sees the moderator's figures, makes a new link, changes the role and
// disables the account; the sign-in page at phone width. Run by tests/console.rs:  node accounts.spec.mjs <base-url> <admin-invitation-url> <admin-key>
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const [base, adminInvitation, adminKey] = process.argv.slice(2);
if (!base || !adminInvitation || !adminKey) {
  console.error('usage: node accounts.spec.mjs <base-url> <admin-invitation-url> <admin-key>');
  process.exit(2);
}
const out = process.env.E2E_OUT || path.resolve('../../target/e2e');
mkdirSync(out, { recursive: true });
const executablePath = process.env.VIGIE_CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const api = async (method, p, body) => {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: 'Bearer ' + adminKey, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
};

const ADMIN = 'dominique@example.fr';
const MODERATOR = 'camille@example.fr';
const ADMIN_PASSWORD = 'la rédaction veille tard 2026';
const MODERATOR_PASSWORD = 'un phare sur la falaise 1903';
// RFC 6238 (HMAC-SHA1, 6 digits, 30 s), as the authenticator app would compute it.
function totp(base32, unixSecs) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

let step = 'start';
const pageErrors = [];

async function newPage(viewport) {
  const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 800 }, locale: 'fr-FR' });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(10000);
  return { context, page };
}

// Opens an invitation link, refuses a common password, sets `password`; the sign-in form
// is then shown with the e-mail filled in.
async function acceptInvitation(page, url, email, password) {
  await page.goto(url);
  await page.waitForSelector('#invitation:not([hidden])');
  await page.fill('#invitation-password', 'qwertyqwerty');
  await page.fill('#invitation-confirm', 'qwertyqwerty');
  await page.click('#invitation-submit');
  await page.waitForFunction(() => /Mot de passe refusé \(.*common/.test(document.querySelector('#invitation-error').textContent));
  await page.fill('#invitation-password', password);
  await page.fill('#invitation-confirm', password);
  await page.click('#invitation-submit');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.inputValue('#signin-email'), email);
  assert.match(await page.textContent('#signin-info'), /Mot de passe enregistré/);
  assert.equal(await page.evaluate(() => location.hash), '', 'the token left the address bar');
}

async function signIn(page, email, password) {
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.click('#signin-account-submit');
  await page.waitForSelector('#app:not([hidden])');
}

try {
  // ---- the admin's invitation, password, sign-in; a moderator invited from the Team view ------
  step = 'admin invitation';
  const { context: ca, page: pa } = await newPage();
  await acceptInvitation(pa, adminInvitation, ADMIN, ADMIN_PASSWORD);
  await pa.screenshot({ path: path.join(out, 'signin.png') });
  await signIn(pa, ADMIN, ADMIN_PASSWORD);
  assert.match(await pa.textContent('#whoami'), /Dominique/);
  assert.equal(await pa.isHidden('#nav-team'), false, 'admins see the Team view');

  step = 'invite from the console';
  await pa.click('#nav-team');
  await pa.waitForSelector('#team-list tr');
  await pa.fill('#invite-email', MODERATOR);
  await pa.fill('#invite-name', 'Camille');
  await pa.selectOption('#invite-role', 'moderator');
  await pa.click('#invite-submit');
  await pa.waitForFunction(() => /#invitation=/.test(document.querySelector('#invite-link').value));
  const moderatorInvitation = await pa.inputValue('#invite-link');
  await pa.waitForFunction(() => document.querySelectorAll('#team-list tr').length === 2);
  await pa.screenshot({ path: path.join(out, 'team.png'), fullPage: true });
  await pa.click('#btn-signout');
  await pa.waitForSelector('#signin:not([hidden])');
  await ca.close();

  // ---- the moderator: invitation → password → sign-in → decide → sign out ---------------------
  step = 'moderator decides';
  const { context: cm, page: pm } = await newPage();
  await acceptInvitation(pm, moderatorInvitation, MODERATOR, MODERATOR_PASSWORD);
  await signIn(pm, MODERATOR, MODERATOR_PASSWORD);
  assert.equal(await pm.isHidden('#nav-team'), true, 'moderators have no Team view');
  await pm.waitForSelector('#list li.current');
  const decided = await pm.$eval('#panel', (p) => p.dataset.id);
  await pm.keyboard.press('a');
  await pm.waitForFunction((id) => document.querySelector('#panel').dataset.id !== id, decided);
  const log = await api('GET', '/v1/decisions');
  const mine = log.body.items.find((d) => String(d.comment_id) === decided && d.source === 'human');
  assert.ok(mine, 'the decision is in the audit log');
  assert.equal(mine.actor, 'Camille', 'the audit log names the person');

  // ---- TOTP enrolment, then sign-in with the code ---------------------------------------------
  step = 'totp enrolment';
  await pm.click('#btn-2fa');
  await pm.click('#totp-start');
  await pm.waitForFunction(() => document.querySelector('#totp-secret').value.length >= 32);
  const secret = await pm.inputValue('#totp-secret');
  assert.match(await pm.inputValue('#totp-url'), /^otpauth:\/\/totp\/Vigie:camille%40example\.fr\?secret=/);
  const now = Date.now() / 1000;
  await pm.fill('#totp-code', totp(secret, now));
  await pm.click('#totp-confirm');
  await pm.waitForFunction(() => document.querySelectorAll('#totp-codes li').length === 10);
  await pm.screenshot({ path: path.join(out, 'totp-recovery-codes.png') });
  await pm.click('#totp-close');

  step = 'e-mail alerts';
  await pm.click('#btn-2fa');
  await pm.waitForSelector('#alerts-language');
  await pm.waitForFunction(() => (document.querySelector('#alerts .muted')?.textContent ?? '').includes('camille@example.fr'));
  await pm.selectOption('#alerts-language', 'en');
  await pm.check('#alerts-report');
  await pm.fill('#alerts-wait', '30');
  await pm.fill('#alerts-digest', '7');
  await pm.click('#alerts-save');
  await pm.waitForFunction(() => (document.querySelector('#alerts-message')?.textContent ?? '') !== '');
  const alerts = await pm.evaluate(async () => (await fetch('/v1/account/alerts', { credentials: 'same-origin' })).json());
  assert.deepEqual(
    [alerts.language, alerts.on_report, alerts.queue_wait_minutes, alerts.digest_hour],
    ['en', true, 30, 7], 'the alert choices are saved');
  await pm.fill('#alerts-digest', '24');
  await pm.click('#alerts-save');
  await pm.waitForFunction(() => document.querySelector('#alerts-message').className === 'error');
  await pm.click('#totp-close');

  step = 'moderator signs out';
  await pm.click('#btn-signout');
  await pm.waitForSelector('#signin:not([hidden])');
  assert.equal((await cm.cookies()).filter((c) => c.name === 'vigie_session' && c.value).length, 0);

  step = 'totp sign-in';
  await pm.fill('#signin-email', MODERATOR);
  await pm.fill('#signin-password', MODERATOR_PASSWORD);
  await pm.click('#signin-account-submit');
  await pm.waitForSelector('#signin-code-row:not([hidden])');
  assert.equal(await pm.isHidden('#app'), true, 'the password alone is not enough');
  // The next step's code: the enrolment used the current one, and a code works once.
  await pm.fill('#signin-code', totp(secret, now + 30));
  await pm.click('#signin-account-submit');
  await pm.waitForSelector('#app:not([hidden])');
  await pm.click('#btn-signout');
  await pm.waitForSelector('#signin:not([hidden])');

  // ---- failed sign-ins are rate-limited --------------------------------------------------------
  step = 'rate limit';
  for (let i = 0; i < 5; i++) {
    await pm.fill('#signin-email', MODERATOR);
    await pm.fill('#signin-password', 'pas le bon mot de passe ' + i);
    await pm.click('#signin-account-submit');
    await pm.waitForFunction(() => /incorrect/.test(document.querySelector('#signin-account-error').textContent));
    await pm.evaluate(() => { document.querySelector('#signin-account-error').textContent = ''; });
  }
  await pm.fill('#signin-password', MODERATOR_PASSWORD);
  await pm.click('#signin-account-submit');
  await pm.waitForFunction(() => /Trop de tentatives : réessayez dans \d+ s/.test(document.querySelector('#signin-account-error').textContent));
  assert.equal(await pm.isHidden('#app'), true, 'even the right password waits');
  await pm.screenshot({ path: path.join(out, 'signin-rate-limited.png') });
  await cm.close();

  // ---- the admin disables the moderator and makes a new link -----------------------------------
  step = 'admin disables and resets';
  const { context: cd, page: pd } = await newPage();
  await pd.goto(base + '/console#/team');
  await pd.waitForSelector('#signin:not([hidden])');
  await signIn(pd, ADMIN, ADMIN_PASSWORD);
  await pd.goto(base + '/console#/dashboard');
  await pd.waitForSelector('#chart-moderators td.name:text-is("Camille")');
  await pd.screenshot({ path: path.join(out, 'dashboard-moderators.png'), fullPage: true });
  await pd.goto(base + '/console#/team');
  await pd.waitForSelector('#team-list tr');
  const row = '#team-list tr:has(td.name:text-is("Camille"))';
  await pd.click(row + ' button.reset');
  await pd.waitForFunction((old) => /#invitation=/.test(document.querySelector('#invite-link').value)
    && document.querySelector('#invite-link').value !== old, moderatorInvitation);
  await pd.selectOption(row + ' select.role', 'admin');
  await pd.waitForFunction(() => /Compte modifié/.test(document.querySelector('#status').textContent));
  await pd.click(row + ' button.toggle');
  await pd.waitForSelector(row + '[data-state="disabled"]');
  const accounts = await api('GET', '/v1/accounts');
  const camille = accounts.body.items.find((a) => a.name === 'Camille');
  assert.equal(camille.state, 'disabled');
  assert.equal(camille.role, 'admin');
  await cd.close();

  // ---- the sign-in page on a 390 px wide phone -------------------------------------------------
  step = 'phone width';
  const { context: cp, page: pp } = await newPage({ width: 390, height: 844 });
  await pp.goto(base + '/console');
  await pp.waitForSelector('#signin:not([hidden])');
  assert.ok(await pp.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scroll');
  await pp.screenshot({ path: path.join(out, 'signin-phone.png') });
  await cp.close();

  assert.deepEqual(pageErrors, [], 'no uncaught page error');
  console.log('screenshots: ' + ['signin.png', 'team.png', 'totp-recovery-codes.png', 'signin-rate-limited.png', 'dashboard-moderators.png', 'signin-phone.png'].map((f) => path.join(out, f)).join(' '));
  console.log('account browser tests passed');
  await browser.close();
} catch (e) {
  console.error('FAILED at step "' + step + '": ' + (e && e.stack ? e.stack : e));
  console.error('page errors: ' + JSON.stringify(pageErrors));
  await browser.close().catch(() => {});
  process.exit(1);
}
