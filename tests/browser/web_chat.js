// The web chat in a real browser: Debian Chromium driven by playwright-core, against a running Herald with no
// Telegram at all. From the owner link in Herald's log to an approved post: the owner signs in, creates a
// conference and a moderation room by typing commands, binds the room, adds a (never reached) Mastodon
// provider, invites a volunteer, who opens the invitation on a phone and posts; the post shows up in the
// owner's open moderation room without a reload, and its Approve button approves it. Run by `.ci/browser`,
// which starts Herald and passes: HERALD (Herald's address), LOG (Herald's log, for the owner link) and
// ARTIFACTS (where the screenshots go). CommonJS, so NODE_PATH finds playwright-core in the peer cache.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const { HERALD, LOG, ARTIFACTS } = process.env;
const SLUG = 'web-2027';
const WAIT = 20000;
const POST = 'Doors open at nine';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

// The owner link Herald logs when it has no owner and no Telegram.
async function ownerLink() {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const match = /(https?:\/\/[^\s"'\x1b]+\/chat\/start\/[A-Za-z0-9_-]+)/.exec(fs.readFileSync(LOG, 'utf8'));
    if (match) return match[1];
    await sleep(300);
  }
  fail('Herald did not log a web chat owner link (…/chat/start/<token>)');
  return '';
}

async function shot(page, name, fullPage = false) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`  screenshot ${file}`);
}

// What a chat page shows: its messages as { id, herald, text, buttons }.
const messages = (page) => page.$$eval('#log article.msg', (articles) => articles.map((a) => ({
  id: Number(a.id.slice(1)),
  herald: a.classList.contains('herald'),
  text: a.querySelector('.body').innerText,
  buttons: [...a.querySelectorAll('button')].map((b) => b.innerText.trim()),
})));

const lastHeraldId = async (page) => Math.max(0, ...(await messages(page)).filter((m) => m.herald).map((m) => m.id));

// Waits until the chat shows a message from Herald newer than `after` matching `pattern`; returns it. Only
// the page's own look for new messages brings it: nothing here reloads.
async function heraldSays(page, who, pattern, after, timeoutMs = WAIT) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await messages(page);
    const hit = seen.find((m) => m.herald && m.id > after && pattern.test(m.text));
    if (hit) return hit;
    await sleep(200);
  }
  const shown = seen.slice(-4).map((m) => `${m.herald ? 'Herald' : 'me'}#${m.id}: ${m.text}`).join('\n    ');
  fail(`${who}: no message from Herald matching ${pattern} within ${timeoutMs / 1000} s; the chat ends with\n    ${shown}`);
  return null;
}

// Types `text` into the chat and presses Enter, then waits for Herald's answer matching `pattern`.
async function say(page, who, text, pattern) {
  const after = await lastHeraldId(page);
  const box = page.locator('#say textarea');
  await box.fill(text);
  await box.press('Enter');
  const answer = await heraldSays(page, who, pattern, after);
  if (await box.inputValue() !== '') fail(`${who}: the message box still holds ${JSON.stringify(await box.inputValue())}`);
  return answer;
}

// Opens a start link (owner link or invitation) and gives the name; lands in the chat.
async function start(page, link, name, screenshot) {
  const response = await page.goto(link);
  if (response.status() !== 200) fail(`the start page for ${name} answered ${response.status()}`);
  await page.getByRole('heading', { name: 'Talk to Herald' }).waitFor({ timeout: WAIT });
  await page.fill('input[name="name"]', name);
  if (screenshot) await shot(page, screenshot, true);
  await page.getByRole('button', { name: 'Open the chat' }).click();
  await page.waitForURL(/\/chat(\?|$)/, { timeout: WAIT }).catch(() => fail(`${name}: the start page did not open the chat (at ${page.url()})`));
  await page.locator('#log[data-chat]').waitFor({ timeout: WAIT });
}

// Opens a chat through its link on the side.
async function openChat(page, who, title) {
  await page.locator('nav.chats a', { hasText: title }).first().click();
  await page.waitForFunction((t) => document.querySelector('.conversation h1')?.innerText.trim() === t, title,
    { timeout: WAIT }).catch(() => fail(`${who}: the chat ${title} did not open (at ${page.url()})`));
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  const errors = [];
  // Script errors and failed requests on the pages (the browser's own look for /favicon.ico aside).
  const watch = (page, who) => {
    const ours = (url) => !/\/favicon\.ico$/.test(url || '');
    page.on('pageerror', (err) => errors.push(`${who}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && ours(msg.location().url)) errors.push(`${who}: ${msg.text()} (${msg.location().url})`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && ours(r.url())) errors.push(`${who}: ${r.request().method()} ${r.url()} answered ${r.status()}`);
    });
  };
  try {
    // The owner link from the log, on a desktop screen.
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const olga = await desktop.newPage();
    watch(olga, 'Olga');
    await start(olga, await ownerLink(), 'Olga', 'web-chat-start');
    await heraldSays(olga, 'Olga', /you are now the owner/i, 0);
    const cookies = (await desktop.cookies()).map((c) => c.name);
    console.log(`  Olga opened the owner link and is the owner (session cookie: ${cookies.join(', ')})`);

    // The conference, typed in the box and sent with Enter.
    await say(olga, 'Olga', `/conference new ${SLUG} Europe/Brussels 2027-02-06 2027-02-07 Web Conf 2027`,
      /Created Web Conf 2027 \(web-2027\)/);
    const mine = (await messages(olga)).filter((m) => !m.herald).map((m) => m.text);
    if (!mine.some((t) => t.startsWith('/conference new'))) fail(`Olga's own command is not in the chat: ${JSON.stringify(mine)}`);
    console.log('  /conference new answered in the chat (typed, sent with Enter)');

    // A room, bound as the moderation chat with the code from the private chat.
    await olga.fill('.new-room input[name="title"]', 'Moderation');
    await olga.getByRole('button', { name: 'Create room' }).click();
    await olga.waitForURL(/\/chat\?c=room-\d+/, { timeout: WAIT }).catch(() => fail(`creating a room led to ${olga.url()}`));
    const room = new URL(olga.url()).searchParams.get('c');
    if (await olga.locator('nav.chats a', { hasText: '# Moderation' }).count() !== 1) fail('the new room is not listed on the side');
    await openChat(olga, 'Olga', 'Herald');
    const code = /herald-bind-[A-Za-z0-9_-]+/.exec((await say(olga, 'Olga', '/bind moderation', /herald-bind-/)).text)[0];
    await openChat(olga, 'Olga', '# Moderation');
    if (new URL(olga.url()).searchParams.get('c') !== room) fail(`the room's link opened ${olga.url()}`);
    await say(olga, 'Olga (room)', code, /now the moderation chat of/i);
    await olga.waitForFunction((c) => ![...document.querySelectorAll('#log article.msg.mine')]
      .some((a) => a.innerText.includes(c)), code, { timeout: WAIT })
      .catch(() => fail('the bind code is still in the room'));
    console.log(`  room ${room} bound as the moderation chat; the code left the room`);

    // A provider that is never reached, posting policy 2, and an invitation.
    await openChat(olga, 'Olga', 'Herald');
    await say(olga, 'Olga', '/provider add mastodon masto https://mastodon.invalid', /send its credentials/);
    await say(olga, 'Olga', 'tok', /Credentials for masto saved/);
    if ((await messages(olga)).some((m) => !m.herald && m.text === 'tok')) fail('the credentials message is still in the chat');
    await say(olga, 'Olga', '/provider on masto', /masto is active/);
    await say(olga, 'Olga', '/switch masto public on', /public is on/);
    await say(olga, 'Olga', '/conference policy 2', /Posting policy of Web Conf 2027 is now 2/);
    const invitation = await say(olga, 'Olga', '/invite volunteer Vera', /\/chat\/start\//);
    const link = /(https?:\/\/\S+\/chat\/start\/[A-Za-z0-9_-]+)/.exec(invitation.text)[1];
    if (!link.startsWith(HERALD)) fail(`the invitation links to ${link}, not to ${HERALD}`);
    console.log('  provider masto added and on, policy 2, invitation for Vera made');
    await shot(olga, 'web-chat');

    // The moderation room stays open from here on: whatever comes next arrives by the page's own looks.
    await openChat(olga, 'Olga', '# Moderation');
    await olga.evaluate(() => { window.heraldNotReloaded = true; });
    const before = await lastHeraldId(olga);

    // Vera, on a phone.
    const phone = await browser.newContext({
      viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    const vera = await phone.newPage();
    watch(vera, 'Vera');
    await start(vera, link, 'Vera');
    await heraldSays(vera, 'Vera', /You are now volunteer at Web Conf 2027/, 0);
    const width = await vera.evaluate(() => document.documentElement.scrollWidth);
    if (width > 375) fail(`Vera's chat is ${width}px wide in a 375px viewport`);
    await say(vera, 'Vera', `/post ${POST}`, /Post #1 is waiting for approval in the moderation chat/);
    console.log(`  Vera joined on a 375x667 phone (${width}px wide) and posted #1`);

    // In Olga's open room: the post, with its buttons, without a reload.
    const pending = await heraldSays(olga, 'Olga (room)', new RegExp(`Post #1 by Vera is waiting for approval[\\s\\S]*${POST}`), before);
    if (!(await olga.evaluate(() => window.heraldNotReloaded === true))) fail('the room page reloaded');
    if (!pending.buttons.includes('✅ Approve') || !pending.buttons.includes('🚫 Reject')) {
      fail(`the post in the room has buttons ${JSON.stringify(pending.buttons)}`);
    }
    console.log(`  post #1 arrived in the open moderation room without a reload (message m${pending.id})`);
    const message = olga.locator(`#m${pending.id}`);
    await message.getByRole('button', { name: '✅ Approve' }).click();
    await olga.waitForFunction((id) => {
      const article = document.getElementById(`m${id}`);
      return article && /approved/.test(article.querySelector('.body').innerText)
        && ![...article.querySelectorAll('button')].some((b) => b.innerText.includes('Approve'));
    }, pending.id, { timeout: WAIT }).catch(async () => {
      const now = await message.count() ? await message.innerText() : '(gone)';
      fail(`after Approve, message m${pending.id} still reads:\n    ${now}`);
    });
    if (!(await olga.evaluate(() => window.heraldNotReloaded === true))) fail('the room page reloaded');
    if (await olga.locator('#log button', { hasText: 'Approve' }).count() !== 0) fail('an Approve button remains in the room');
    const approved = (await message.locator('.body').innerText()).split('\n')[0];
    console.log(`  Approve pressed: the message now says "${approved}", no buttons left`);
    await shot(olga, 'web-chat-moderation');

    if (errors.length) fail(`the pages logged errors:\n  ${errors.join('\n  ')}`);
  } finally {
    await browser.close();
  }
  console.log('web chat scenario passed');
}

main().catch((err) => fail(err.stack || String(err)));
