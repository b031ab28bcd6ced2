// The invitation mail as a reader's mail program shows it: each HTML file named on the command line (the
// HTML part of a mail Herald wrote, extracted by `.ci/browser`) opened in Debian Chromium through
// playwright-core at a phone-sized and a desktop-sized width; screenshots go to ARTIFACTS as
// mail-<name>.png. Fails when a page lacks the links an invitation must carry.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const { ARTIFACTS } = process.env;

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) fail('no mail to show');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 600, height: 720 } });
    for (const file of files) {
      const name = path.basename(file, '.html');
      await page.goto(`file://${path.resolve(file)}`);
      const links = await page.$$eval('a', (as) => as.map((a) => a.href));
      if (!links.some((l) => l.includes('/chat/start/'))) fail(`${name}: no link to open in the browser`);
      if (!links.some((l) => l.includes('t.me/') || l.includes('?start='))) fail(`${name}: no Telegram link`);
      await page.screenshot({ path: path.join(ARTIFACTS, `mail-${name}.png`), fullPage: true });
      console.log(`mail ${name}: ${links.length} links, screenshot taken`);
    }
  } finally {
    await browser.close();
  }
})().catch((err) => fail(err.stack || String(err)));
