// The web pages in a real browser: Debian Chromium driven by playwright-core, against a running Herald whose
// Telegram side is telegram-test-api (a real Bot API emulator). Run by `.ci/browser`, which starts both and
// passes: API (the emulator), TOKEN, HERALD (Herald's address), LOG (Herald's log, for the owner link) and
// ARTIFACTS (where the screenshots go). CommonJS, so NODE_PATH finds playwright-core in the peer cache.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const { API, TOKEN, HERALD, LOG, ARTIFACTS } = process.env;
const OWNER = { id: 2001, is_bot: false, first_name: 'Olga', username: 'olga' };
const VERA = { id: 2002, is_bot: false, first_name: 'Vera', username: 'vera' };
const SLUG = 'web-2027';
// A URL (Mastodon and X count 23), a family emoji (one grapheme on Bluesky, five code points, 2 on X), a
// bare domain (23 on X) and CJK (2 each on X).
const POST = 'Doors open at nine 👩‍👩‍👧 see you at the info desk: https://example.org/a/rather/long/path/to/building/K fosdem.org 会場';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

async function api(route, body) {
  const response = await fetch(API + route, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return response.json();
}

async function command(user, text) {
  const word = text.split(/\s/)[0];
  await api('/sendCommand', {
    botToken: TOKEN, from: user, date: Math.floor(Date.now() / 1000), text,
    chat: { id: user.id, type: 'private', first_name: user.first_name },
    entities: [{ type: 'bot_command', offset: 0, length: word.length }],
  });
}

const received = new Map();
// Waits until the bot has sent `user` a message matching `pattern` after `since` messages; returns it.
async function waitFor(user, pattern, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  const seen = received.get(user.id) || [];
  received.set(user.id, seen);
  while (Date.now() < deadline) {
    const answer = await api('/getUpdates', { token: TOKEN, chatId: user.id });
    for (const update of answer.result || []) {
      const text = (update.message && update.message.text) || '';
      if (!seen.includes(text)) seen.push(text);
    }
    const hit = seen.find((t) => pattern.test(t) && !t.used);
    if (hit) {
      seen.splice(seen.indexOf(hit), 1);
      return hit;
    }
    await sleep(300);
  }
  fail(`${user.first_name} never received ${pattern}; got ${JSON.stringify(seen)}`);
  return '';
}

async function ownerToken() {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const match = /https:\/\/t\.me\/TestNameBot\?start=([A-Za-z0-9_-]+)/.exec(fs.readFileSync(LOG, 'utf8'));
    if (match) return match[1];
    await sleep(300);
  }
  fail('Herald did not log an owner link');
  return '';
}

const linkIn = (text) => {
  const match = /(https?:\/\/\S+\/login\/[A-Za-z0-9_-]+)/.exec(text);
  if (!match) fail(`no sign-in link in ${text}`);
  return match[1];
};

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  // The conference, a volunteer and a post waiting for approval, all through the bot.
  await command(OWNER, `/start ${await ownerToken()}`);
  await waitFor(OWNER, /now the <b>owner<\/b>/);
  await command(OWNER, `/conference new ${SLUG} Europe/Brussels 2027-02-06 2027-02-07 Web Conf 2027`);
  await waitFor(OWNER, /Created <b>Web Conf 2027<\/b>/);
  await command(OWNER, '/conference policy 2');
  await waitFor(OWNER, /Posting policy of/);
  await command(OWNER, '/invite volunteer Vera');
  const invite = /start=([A-Za-z0-9_-]+)/.exec(await waitFor(OWNER, /start=/))[1];
  await command(VERA, `/start ${invite}`);
  await waitFor(VERA, /You are now <b>volunteer<\/b>/);
  // Three networks broadcasting (never reached: their posts fail in the outbox), so the page measures posts
  // by Mastodon's, Bluesky's and X's rules.
  for (const [kind, name, url] of [['mastodon', 'masto', 'https://mastodon.invalid'], ['bluesky', 'sky', 'https://bsky.invalid'], ['x', 'xconf', 'https://x.invalid']]) {
    await command(OWNER, `/provider add ${kind} ${name} ${url}`);
    await waitFor(OWNER, /credentials/);
    await command(OWNER, `/provider on ${name}`);
    await waitFor(OWNER, new RegExp(`${name}`));
    await command(OWNER, `/switch ${name} public on`);
    await waitFor(OWNER, /public is on/);
  }
  await command(VERA, `/post ${POST}`);
  await waitFor(VERA, /Post #1 is waiting for approval/);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  try {
    // Sign in through a link from /web, on a desktop screen.
    await command(OWNER, '/web');
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await desktop.newPage();
    const login = await page.goto(linkIn(await waitFor(OWNER, /login\//)));
    if (login.status() !== 200) fail(`the sign-in page answered ${login.status()}`);
    await shot(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/config/);
    if (!(await page.textContent('header')).includes('Signed in as Olga')) fail('the page does not say who is signed in');

    // Change the posting policy, and see it in /status in chat.
    await page.check('input[name="policy"][value="3"]');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.waitForURL(/#policy/);
    await page.locator('#policy .notice').waitFor();
    await command(OWNER, '/status');
    await waitFor(OWNER, /Posting policy: 3/);
    console.log('  policy changed on the page; /status in chat says 3');

    // Add an auto-add hashtag.
    await page.fill('input[name="tag"]', 'webconf');
    await page.check('input[name="auto"]');
    await page.fill('input[name="order"]', '1');
    await page.getByRole('button', { name: 'Add hashtag' }).click();
    await page.waitForURL(/#hashtags/);
    const row = page.locator('#hashtags tr', { hasText: '#webconf' });
    if (!(await row.textContent()).includes('yes')) fail('the hashtag is not auto-added');
    await command(OWNER, '/hashtag list');
    await waitFor(OWNER, /webconf/);
    console.log('  hashtag #webconf added with auto-add; /hashtag list in chat has it');
    await shot(page, 'config');

    // The moderation page on a phone: approve the volunteer's post.
    await command(OWNER, '/mobile');
    const phone = await browser.newContext({
      viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    const mobile = await phone.newPage();
    await mobile.goto(linkIn(await waitFor(OWNER, /login\//)));
    await mobile.getByRole('button', { name: 'Sign in' }).click();
    await mobile.waitForURL(/\/m$/);
    const loaded = await mobile.reload();
    const bytes = (await loaded.body()).length;
    if (bytes >= 100 * 1024) fail(`the moderation page is ${bytes} bytes`);
    const width = await mobile.evaluate(() => document.documentElement.scrollWidth);
    if (width > 375) fail(`the moderation page is ${width}px wide in a 375px viewport`);
    await mobile.locator('#post-1', { hasText: 'Doors open at nine' }).waitFor();
    if (bytes >= 100 * 1024) fail(`the page is ${bytes} bytes`);
    // The counters count as the server does: the same text, measured by the page and by the server.
    await mobile.fill('#compose-text', POST);
    const counters = (await mobile.locator('#counters').textContent()).replace(/\s+/g, ' ').trim();
    for (const network of ['masto', 'sky', 'xconf']) {
      const server = (await mobile.locator('#post-1 .lengths li', { hasText: network }).textContent()).trim();
      const page = (await mobile.locator('#counters li', { hasText: network }).textContent()).replace(/\s+/g, ' ').trim();
      if (server.split(' ')[1] !== page.split(' ')[1]) fail(`${network}: the server counts ${server}, the page ${page}`);
    }
    await shot(mobile, 'moderation');
    const poll = await mobile.evaluate(async (slug) => (await fetch(`/m/poll?c=${slug}`)).json(), SLUG);
    if (JSON.stringify(poll.posts) !== '[1]') fail(`the poll says ${JSON.stringify(poll)}`);
    // A new post arrives while the page is open: its next look (every 30 s, or on coming back to the page)
    // shows the banner.
    if (await mobile.locator('#fresh').isVisible()) fail('the banner shows before anything is new');
    await command(VERA, '/post Second post: the cloakroom is full');
    await waitFor(VERA, /Post #2 is waiting for approval/);
    await mobile.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await mobile.locator('#fresh').waitFor({ state: 'visible', timeout: 10000 });
    console.log('  a post written while the page was open raised the banner');
    await mobile.getByRole('button', { name: 'Approve #1' }).tap();
    await mobile.waitForURL(/#queue/);
    const notice = await mobile.locator('#queue .notice').textContent();
    if (!/approved/i.test(notice)) fail(`after Approve the page says ${notice}`);
    if (await mobile.locator('#post-1').count() !== 0) fail('post #1 is still in the queue after Approve');
    await mobile.locator('#post-2', { hasText: 'cloakroom' }).waitFor();
    await shot(mobile, 'moderation-approved');
    console.log(`  post #1 approved on a 375x667 phone page (${bytes} bytes, ${width}px wide; counters: ${counters.trim() || 'none'})`);

    // Signed out, the pages say how to sign in.
    await mobile.getByRole('button', { name: 'Sign out' }).click();
    await mobile.getByRole('heading', { name: 'Signed out' }).waitFor();
  } finally {
    await browser.close();
  }
  console.log('browser scenario passed');
}

main().catch((err) => fail(err.stack || String(err)));
