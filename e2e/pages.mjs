// Every page, as a phone (390×844) and a desktop (1280×800) show it, in real Chromium against
// a server with the demo world (`hawker demo`, or the test's copy of it): logged out where a
// visitor goes, logged in as the demo account whose page it is. A page fails on "null",
// "undefined" or "NaN" in its visible text, on a horizontal scrollbar, and on any console error
// or uncaught exception. On top of that: the pinned product leaves most of the video free on a
// phone, live shows on the home page say how many watch, and the merchant console pages,
// searches and filters the orders and pauses, resumes and ends a coupon it creates.
// Usage: node pages.mjs http://host
import { launch, check } from './lib.mjs';

const [base] = process.argv.slice(2);
const PASSWORD = 'hawker-demo-2026';
const FARMER = 'li.wei@farm.example'; // owns li-wei-farm and its shop
const BUYER = 'neighbour1@village.example'; // bought at the farmer's honest show
const OPS = 'ops@hawker.example';
const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const BAD_WORDS = /\b(null|undefined|NaN)\b/;

const ended = await (await fetch(`${base}/api/v1/shows?state=ended&limit=50`)).json();
const replay = ended.find((s) => s.replay_url);
check(replay, 'an ended show with a recording to replay');

const VISITS = [
  { path: '/', who: null, ready: '#live .show-card' },
  { path: '/c/li-wei-farm', who: null, ready: '#pinned:not([hidden]) .pin-title' },
  { path: '/c/li-wei-farm', who: BUYER, ready: '#pinned:not([hidden]) .pin-title' },
  { path: `/replay/${replay.id}`, who: null, ready: '#channel:not(:empty)' },
  { path: '/studio', who: FARMER, ready: '#shows li' },
  { path: '/shop', who: FARMER, ready: '#orders tr[id^="morder-"]' },
  { path: '/orders', who: BUYER, ready: '#orders .card' },
  { path: '/earnings', who: FARMER, ready: '#statement > *' },
  { path: '/ops', who: OPS, ready: '#risk tr[data-show]' },
  { path: '/login', who: null, ready: '#heading:not(:empty)' },
  { path: '/signup', who: null, ready: '#heading:not(:empty)' },
];

const failures = [];
const fail = (where, what) => failures.push(`${where}: ${what}`);
const browser = await launch();
let visited = 0;
try {
  for (const [size, viewport] of Object.entries(SIZES)) {
    const contexts = new Map();
    const contextFor = async (who) => {
      if (!contexts.has(who)) {
        const ctx = await browser.newContext({ viewport });
        if (who) {
          const r = await ctx.request.post(`${base}/api/v1/sessions`, { data: { email: who, password: PASSWORD } });
          check(r.ok(), `${who} logs in (${r.status()})`);
        }
        contexts.set(who, ctx);
      }
      return contexts.get(who);
    };
    for (const v of VISITS) {
      const where = `${v.path} (${size}${v.who ? `, ${v.who}` : ''})`;
      const page = await (await contextFor(v.who)).newPage();
      const errors = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()} ${m.location().url || ''}`.trim());
      });
      page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
      });
      page.on('dialog', (d) => d.accept());
      page.setDefaultTimeout(10000);
      await page.goto(`${base}${v.path}`);
      try {
        await page.waitForSelector(v.ready, { timeout: 15000 });
      } catch {
        fail(where, `never showed ${v.ready}`);
      }
      await page.waitForTimeout(1500); // late requests, the room's first frames
      try {
        await pageChecks(page, where, size, v);
      } catch (e) {
        fail(where, e.message.split('\n')[0]);
      }
      await inspect(page, where);
      for (const e of errors) fail(where, e);
      await page.close();
      visited++;
    }
    for (const ctx of contexts.values()) await ctx.close();
  }
} finally {
  await browser.close();
}

if (failures.length) {
  console.error(`FAIL: ${failures.length} problem(s):\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(JSON.stringify({ test: 'pages', visited, replay: replay.id }));

/** What every page must not do. */
async function inspect(page, where) {
  const r = await page.evaluate(() => ({
    text: document.body.innerText,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ').join('.')}` : ''}`),
  }));
  for (const line of r.text.split('\n')) {
    if (BAD_WORDS.test(line)) fail(where, `visible text says ${JSON.stringify(line.trim())}`);
  }
  if (r.scrollWidth > r.innerWidth) {
    fail(where, `scrolls sideways: ${r.scrollWidth} px wide in ${r.innerWidth} (${r.wide.join(', ')})`);
  }
}

/** What particular pages must do. */
async function pageChecks(page, where, size, v) {
  if (v.path === '/') {
    const live = await page.$$eval('#live .show-card', (cards) => cards.map((c) => ({
      channel: c.dataset.channel,
      badge: c.querySelector('.badge.live')?.textContent || '',
      viewers: c.querySelector('.viewers')?.textContent || '',
      cover: !!c.querySelector('.cover'),
    })));
    const farm = live.find((c) => c.channel === 'li-wei-farm');
    if (!farm) return fail(where, `the live show is not among the live cards (${JSON.stringify(live)})`);
    if (!/live/i.test(farm.badge)) fail(where, 'the live card has no LIVE badge');
    if (!/\d/.test(farm.viewers)) fail(where, `the live card does not say how many watch (${farm.viewers})`);
    if (!farm.cover) fail(where, 'the live card has no cover');
  }
  if (v.path.startsWith('/c/')) {
    const box = async () => page.evaluate(() => {
      const stage = document.querySelector('.stage').getBoundingClientRect();
      const card = document.querySelector('#pinned').getBoundingClientRect();
      return { stage: stage.height, card: card.height, inside: card.bottom <= stage.bottom + 1 && card.top >= stage.top };
    });
    const b = await box();
    if (!b.inside) fail(where, 'the pinned card is not docked on the video');
    if (size === 'phone' && b.card > 0.31 * b.stage) {
      fail(where, `the pinned card covers ${Math.round((100 * b.card) / b.stage)}% of the video's height`);
    }
    const card = await page.textContent('#pinned');
    if (!card.includes('Sold by')) fail(where, `the pinned card does not name the seller (${card})`);
    // Opened, it shows the host's statement; closed again, it is compact again.
    await page.click('#pin-toggle');
    await page.waitForSelector('#pinned.open #pin-attestation', { state: 'visible', timeout: 5000 })
      .catch(() => fail(where, 'the opened card does not show the host statement'));
    await page.click('#pin-toggle');
    await page.waitForSelector('#pinned:not(.open)', { timeout: 5000 })
      .catch(() => fail(where, 'the card does not close'));
  }
  if (v.path === '/shop' && size === 'desktop') await shopChecks(page, where);
}

async function shopChecks(page, where) {
  const rows = () => page.$$eval('#orders tr[id^="morder-"]', (trs) => trs.map((t) => t.id.slice(7)));
  const settle = async (before) => {
    await page.waitForFunction((b) => {
      const ids = [...document.querySelectorAll('#orders tr[id^="morder-"]')].map((t) => t.id).join();
      return ids !== b;
    }, before.map((id) => `morder-${id}`).join(), { timeout: 10000 }).catch(() => {});
    await page.waitForTimeout(200);
  };
  // Paging: 25 to a page, newest first.
  const first = await rows();
  if (first.length !== 25) fail(where, `the first page has ${first.length} orders, not 25`);
  if (await page.isDisabled('#orders-next')) return fail(where, 'no next page with more than 25 orders');
  await page.click('#orders-next');
  await settle(first);
  const second = await rows();
  const range = await page.textContent('#orders-range');
  if (!second.length || second.some((id) => first.includes(id))) fail(where, `the second page repeats the first (${second})`);
  if (!range.startsWith('Orders 26–')) fail(where, `the second page's range says ${range}`);
  await page.click('#orders-prev');
  await settle(second);
  // Search by order number: that order alone.
  await page.fill('#order-search', first[3]);
  await settle(first);
  const found = await rows();
  if (found.length !== 1 || found[0] !== first[3]) fail(where, `searching ${first[3]} finds ${found}`);
  // By buyer e-mail: the ring's six accounts ordered six times each.
  await page.fill('#order-search', 'ring1@brush');
  await settle(found);
  const ring = await rows();
  if (ring.length !== 6) fail(where, `searching ring1@brush finds ${ring.length} orders, not 6`);
  await page.fill('#order-search', '');
  await settle(ring);
  // The honest show's twenty orders.
  const honest = await page.$eval('#show-filter', (s) => [...s.options].find((o) => /honest/.test(o.textContent))?.value);
  if (!honest) return fail(where, 'the show filter does not list the honest show');
  const before = await rows();
  await page.selectOption('#show-filter', honest);
  await settle(before);
  const shown = await rows();
  if (shown.length !== 20 || !(await page.isDisabled('#orders-next'))) {
    fail(where, `the honest show has ${shown.length} orders on its page, not 20 on one page`);
  }
  await page.selectOption('#show-filter', '');

  // Coupons: created, listed, paused, resumed, ended.
  const code = `PAGES${Date.now() % 1000000}`;
  await page.click('#coupons-panel summary');
  await page.fill('#new-coupon [name=code]', code);
  await page.fill('#new-coupon [name=amount]', '500');
  await page.fill('#new-coupon [name=budget_minor]', '20000');
  await page.click('#coupon-create');
  const row = `#coupons tr[data-code="${code}"]`;
  const status = async (want) => {
    try {
      await page.waitForSelector(`${row}[data-status="${want}"]`, { timeout: 10000 });
      return true;
    } catch {
      const now = await page.$eval(row, (r) => r.dataset.status).catch(() => 'missing');
      fail(where, `coupon ${code} is ${now}, not ${want} (${await page.textContent('#coupon-error')})`);
      return false;
    }
  };
  if (!(await status('active'))) return;
  const text = await page.textContent(row);
  if (!text.includes('5.00 CNY off')) fail(where, `the coupon row reads ${text}`);
  for (const [action, want] of [['pause', 'paused'], ['resume', 'active'], ['end', 'ended']]) {
    await page.click(`${row} button[data-action="${action}"]`);
    if (!(await status(want))) return;
  }
}
