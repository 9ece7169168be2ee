// The shoppable replay in real Chromium: the product card appears at the moment each product
// was pinned (seeking moves it), and a viewer buys from the replay and pays.
// Usage: node replay.mjs http://host/replay/ID
import { launch, check } from './lib.mjs';

const [url] = process.argv.slice(2);
const origin = new URL(url).origin;
const browser = await launch();
const errors = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const r = await ctx.request.post(`${origin}/api/v1/accounts`, {
    data: { email: `replay${Date.now()}@example.com`, password: 'correct horse battery', display_name: 'Replay Buyer', role: 'viewer' },
  });
  check(r.ok(), `viewer signs up (${r.status()})`);
  await page.goto(url);
  await page.waitForFunction(() => (window.__hawkerReplayPins || []).length >= 2, null, { timeout: 15000 });
  const pins = await page.evaluate(() => window.__hawkerReplayPins.map((p) => ({ at: p.offset_ms, title: p.product.title })));
  const timeline = await page.textContent('#timeline');
  check(pins.every((p) => timeline.includes(p.title)), `the timeline lists every pinned product (${timeline})`);
  await page.waitForFunction(() => document.querySelector('#video').readyState >= 1, null, { timeout: 15000 });
  const cardAt = async (ms) => {
    await page.evaluate((t) => { const v = document.querySelector('#video'); v.pause(); v.currentTime = t / 1000; }, ms);
    await page.waitForFunction((t) => Math.abs(document.querySelector('#video').currentTime * 1000 - t) < 400, ms, { timeout: 10000 });
    await page.waitForTimeout(300);
    return page.evaluate(() => {
      const c = document.querySelector('#replay-pinned');
      return c.hidden ? null : c.textContent;
    });
  };
  // Before the first pin: no card. At each pin's moment: that product.
  check((await cardAt(Math.max(0, pins[0].at - 600))) === null, 'no card before the first pin');
  const first = await cardAt(pins[0].at + 200);
  check(first && first.includes(pins[0].title), `the first product at its moment (${first})`);
  const second = await cardAt(pins[1].at + 200);
  check(second && second.includes(pins[1].title), `seeking moves the card to the second (${second})`);
  const back = await cardAt(pins[0].at + 200);
  check(back && back.includes(pins[0].title), `and back (${back})`);

  // Buy from the replay: today's price, paid with the sandbox card.
  await page.click('#buy-replay');
  await page.waitForSelector('#checkout-form', { timeout: 10000 });
  await page.fill('#checkout-form [name=name]', 'Replay Buyer');
  await page.fill('#checkout-form [name=line1]', '3 Orchard Lane');
  await page.fill('#checkout-form [name=city]', 'Fenghua');
  await page.click('#checkout-place');
  await page.waitForSelector('#checkout-pay', { timeout: 10000 });
  await page.click('#checkout-pay');
  await page.waitForSelector('#checkout-done', { timeout: 20000 });
  const done = await page.textContent('#checkout-done');
  check(/Order \d+ is paid/.test(done), `confirmation (${done})`);
  const orderId = Number(done.match(/Order (\d+)/)[1]);
  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ test: 'replay', pins: pins.length, order: orderId }));
} finally {
  await browser.close();
}
