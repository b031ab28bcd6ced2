// Herald's pages: character counters that count as the server does, and a look for new items every 30 s.
'use strict';
(function () {
  const codePoints = (s) => Array.from(s).length;
  const segmenter = typeof Intl !== 'undefined' && Intl.Segmenter
    ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
  // What a reader sees as one character ("🗺️", a letter with its accent) counts one.
  function graphemes(text) {
    if (!segmenter) return codePoints(text);
    let n = 0;
    for (const _ of segmenter.segment(text)) n += 1;
    return n;
  }

  // Mastodon (bots/src/mastodon.rs text_len): graphemes, a URL counts 23, "@user@domain" counts as "@user".
  function wordLength(word) {
    let start = word.indexOf('http://');
    if (start < 0) start = word.indexOf('https://');
    if (start >= 0) {
      const rest = word.slice(start);
      let end = rest.search(/[)\]>"']/);
      if (end < 0) end = rest.length;
      const url = rest.slice(0, end).replace(/[.,;:!?]+$/u, '');
      return graphemes(word.slice(0, start)) + 23 + graphemes(word.slice(start + url.length));
    }
    if (word.startsWith('@')) {
      const stripped = word.slice(1);
      const at = stripped.indexOf('@');
      if (at >= 0) {
        const user = stripped.slice(0, at);
        const domain = stripped.slice(at + 1);
        if (domain.includes('.')) {
          let end = domain.search(/[^\p{L}\p{N}.-]/u);
          if (end < 0) end = domain.length;
          return 1 + graphemes(user) + graphemes(domain.slice(end));
        }
      }
    }
    return graphemes(word);
  }

  function mastodonLength(text) {
    let total = 0;
    let word = '';
    for (const ch of text) {
      if (/\s/u.test(ch)) {
        total += wordLength(word) + 1;
        word = '';
      } else {
        word += ch;
      }
    }
    return total + wordLength(word);
  }

  // Bluesky and Mastodon count graphemes (what a reader sees as one character).
  const blueskyLength = graphemes;

  // X (bots/src/x/text.rs weighted_len): after NFC, a URL weighs 23, a bare domain at least 23, an emoji
  // sequence 2, a code point in twitter-text's light ranges 1, any other 2.
  const LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  const charWeight = (c) => {
    const n = c.codePointAt(0);
    return LIGHT.some(([a, b]) => n >= a && n <= b) ? 1 : 2;
  };
  function isEmoji(g) {
    for (const c of g) {
      const n = c.codePointAt(0);
      if (n === 0xFE0F || n === 0x200D || n === 0x20E3 || (n >= 0x1F3FB && n <= 0x1F3FF)
        || (n >= 0xE0020 && n <= 0xE007F)) return true;
    }
    const n = g.codePointAt(0);
    return (n >= 0x1F000 && n <= 0x1FAFF) || (n >= 0x2600 && n <= 0x27BF) || (n >= 0x2300 && n <= 0x23FF)
      || (n >= 0x2B00 && n <= 0x2BFF);
  }
  function xWeight(text) {
    const clusters = segmenter ? Array.from(segmenter.segment(text), (s) => s.segment) : Array.from(text);
    let n = 0;
    for (const g of clusters) n += isEmoji(g) ? 2 : Array.from(g).reduce((sum, c) => sum + charWeight(c), 0);
    return n;
  }
  function looksLikeDomain(text) {
    const labels = text.split(/[/?#]/)[0].split('.');
    return labels.length >= 2 && labels.every((l) => /^[A-Za-z0-9-]+$/.test(l))
      && /^[A-Za-z]{2,}$/.test(labels[labels.length - 1]);
  }
  function xWordWeight(word) {
    const lower = word.toLowerCase();
    let start = lower.indexOf('http://');
    if (start < 0) start = lower.indexOf('https://');
    if (start >= 0) {
      const rest = word.slice(start);
      let end = rest.search(/[)\]>"']/);
      if (end < 0) end = rest.length;
      const url = rest.slice(0, end).replace(/[.,;:!?]+$/u, '');
      return xWeight(word.slice(0, start)) + 23 + xWeight(word.slice(start + url.length));
    }
    const coreStart = word.length - word.replace(/^[(\["'<]+/u, '').length;
    const core = word.slice(coreStart).replace(/[.,;:!?)\]"'>…]+$/u, '');
    if (!word.includes('@') && looksLikeDomain(core)) {
      return xWeight(word.slice(0, coreStart)) + Math.max(xWeight(core), 23)
        + xWeight(word.slice(coreStart + core.length));
    }
    return xWeight(word);
  }
  function xLength(text) {
    let total = 0;
    let word = '';
    for (const ch of text.normalize('NFC')) {
      if (/\s/u.test(ch)) {
        total += xWordWeight(word) + xWeight(ch);
        word = '';
      } else {
        word += ch;
      }
    }
    return total + xWordWeight(word);
  }

  const measures = { mastodon: mastodonLength, bluesky: blueskyLength, x: xLength, telegram: codePoints };
  window.heraldLength = (kind, text) => (measures[kind] || codePoints)(text.trim());

  const text = document.getElementById('compose-text');
  const counters = document.querySelectorAll('#counters li[data-kind]');
  // The words of the tooltip come from the page (its template, in the reader's language).
  const over = document.getElementById('counters')?.dataset.over || '';
  function count() {
    counters.forEach((li) => {
      const n = window.heraldLength(li.dataset.kind, text.value);
      li.querySelector('.count').textContent = String(n);
      li.classList.toggle('over', n > Number(li.dataset.limit));
      li.title = n > Number(li.dataset.limit) ? over : '';
    });
  }
  if (text) {
    text.addEventListener('input', count);
    count();
    // A tapped hashtag joins the text once, at its end.
    document.querySelectorAll('button.tag[data-tag]').forEach((button) => {
      button.addEventListener('click', () => {
        const tag = button.dataset.tag;
        const words = text.value.split(/\s+/u);
        if (!words.includes(tag)) {
          text.value = text.value.replace(/\s*$/u, '') + (text.value.trim() ? ' ' : '') + tag;
          count();
        }
        text.focus();
      });
    });
  }

  // New items: the poll's ids against the ones on the page.
  const script = document.currentScript || document.querySelector('script[data-poll]');
  const pollUrl = script && script.dataset.poll;
  if (!pollUrl) return;
  const shown = (id) => {
    const el = document.getElementById(id);
    return new Set(el && el.dataset.ids ? el.dataset.ids.split(',').filter(Boolean).map(Number) : []);
  };
  const seen = { posts: shown('queue'), mentions: shown('mentions') };
  const fresh = document.getElementById('fresh');
  const notifyButton = document.getElementById('notify');
  if (notifyButton && 'Notification' in window && Notification.permission === 'default') {
    notifyButton.hidden = false;
    notifyButton.addEventListener('click', () => {
      Notification.requestPermission().then(() => { notifyButton.hidden = true; });
    });
  }
  let told = new Set();
  async function look() {
    try {
      const response = await fetch(pollUrl, { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      const now = await response.json();
      const newPosts = now.posts.filter((id) => !seen.posts.has(id));
      const newMentions = now.mentions.filter((id) => !seen.mentions.has(id));
      if (newPosts.length + newMentions.length === 0) return;
      if (fresh) fresh.hidden = false;
      const key = newPosts.map((id) => 'p' + id).concat(newMentions.map((id) => 'm' + id)).join(',');
      if (!told.has(key) && 'Notification' in window && Notification.permission === 'granted') {
        told.add(key);
        const parts = [];
        if (newPosts.length) parts.push(newPosts.length + ' post' + (newPosts.length > 1 ? 's' : '') + ' to approve');
        if (newMentions.length) parts.push(newMentions.length + ' mention' + (newMentions.length > 1 ? 's' : ''));
        new Notification('Herald · ' + (script.dataset.title || ''), { body: parts.join(', '), tag: 'herald-moderation' });
      }
    } catch (e) {
      // Offline for a moment: the next look tries again.
    }
  }
  setInterval(look, 30000);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) look(); });
}());

// The web chat: new messages appear without reloading (a look every two seconds, and at once after sending);
// forms are sent in the background, and still work as plain forms without this script.
(function () {
  const log = document.getElementById('log');
  if (!log || !log.dataset.chat) return;
  // Times as the reader's clock shows them (the page writes them in UTC).
  const localTimes = () => log.querySelectorAll('time[datetime]').forEach((t) => {
    const at = new Date(t.getAttribute('datetime'));
    if (!Number.isNaN(at.getTime())) t.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  });
  localTimes();
  const url = '/chat/messages?c=' + encodeURIComponent(log.dataset.chat);
  const bottom = () => { log.scrollTop = log.scrollHeight; };
  bottom();
  let last = log.innerHTML.trim();
  async function look() {
    try {
      const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      const html = (await response.text()).trim();
      if (html !== last) {
        last = html;
        log.innerHTML = html;
        localTimes();
        bottom();
      }
    } catch (e) {
      // Offline for a moment: the next look tries again.
    }
  }
  async function send(form) {
    const body = new URLSearchParams(new FormData(form));
    const response = await fetch(form.action, {
      method: 'POST', body, credentials: 'same-origin', headers: { 'X-Herald-Fetch': '1' },
    });
    if (!response.ok && response.status !== 204) { form.submit(); return; }
    look();
    setTimeout(look, 300);
  }
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (form.id !== 'say' && !form.classList.contains('press')) return;
    event.preventDefault();
    send(form).catch(() => form.submit());
    if (form.id === 'say') form.reset();
  });
  const text = document.querySelector('#say textarea');
  if (text) {
    text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        if (text.value.trim()) document.getElementById('say').requestSubmit();
      }
    });
  }
  setInterval(look, 2000);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) look(); });
}());
