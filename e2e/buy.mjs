// Buying from the stream in real Chromium. The host (logged in, in one browser context) pins a
// product from the merchant console and announces a flash sale; the viewer (another context)
// sees the pin and the countdown on the live show, buys when it opens, pays with the sandbox
// provider and gets a confirmation; the host sees the paid order, and its earnings on the
// earnings page.
// Usage: node buy.mjs http://host/c/slug host-email password
import { launch, check } from './lib.mjs';

const [url, hostEmail, password] = process.argv.slice(2);
const origin = new URL(url).origin;
const browser = await launch();
const errors = [];
try {
  const hostCtx = await browser.newContext();
  const viewerCtx = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
  const host = await hostCtx.newPage();
  const viewer = await viewerCtx.newPage();
  for (const p of [host, viewer]) p.on('pageerror', (e) => errors.push(e.message));

  // Both log in through the API (the cookie lands in each context).
  let r = await hostCtx.request.post(`${origin}/api/v1/sessions`, { data: { email: hostEmail, password } });
  check(r.ok(), `host logs in (${r.status()})`);
  const email = `buyer${Date.now()}@example.com`;
  r = await viewerCtx.request.post(`${origin}/api/v1/accounts`, {
    data: { email, password: 'correct horse battery', display_name: 'Mei Buyer', role: 'viewer' },
  });
  check(r.ok(), `viewer signs up (${r.status()})`);

  // The viewer watches.
  await viewer.goto(url);
  await viewer.waitForFunction(() => window.__hawkerPlayer && window.__hawkerPlayer.status === 'live', null, { timeout: 20000 });

  // The host pins the first product on the shelf from the merchant console.
  await host.goto(`${origin}/shop`);
  await host.waitForSelector('[data-pin]', { timeout: 15000 });
  const pinnedTitle = await host.evaluate(() => document.querySelector('[data-pin]').closest('.row').textContent.trim());
  await host.click('[data-pin]');
  await viewer.waitForFunction((t) => {
    const el = document.querySelector('#pinned');
    return el && !el.hidden && t.includes(el.querySelector('.pin-title').textContent);
  }, pinnedTitle, { timeout: 10000 });
  const card = await viewer.textContent('#pinned');
  check(card.includes('Sold by'), `the pinned card names the seller of record (${card})`);

  // A flash sale with a 10-second countdown, announced in the room.
  await host.fill('#new-sale [name=price_minor]', '990');
  await host.fill('#new-sale [name=stock]', '3');
  await host.fill('#new-sale [name=per_buyer_limit]', '1');
  await host.fill('#new-sale [name=duration_s]', '120');
  await host.fill('#new-sale [name=countdown_s]', '10');
  await host.click('#sale-create');
  await host.waitForFunction(() => /announced/.test(document.querySelector('#sale-error').textContent), null, { timeout: 10000 });

  await viewer.waitForFunction(() => /starts in \d+ s/.test((document.querySelector('#sale-status') || {}).textContent || ''), null, { timeout: 10000 });
  const countdown = await viewer.textContent('#sale-status');
  check(await viewer.isDisabled('#sale-buy'), 'buying is closed during the countdown');
  await viewer.waitForFunction(() => !document.querySelector('#sale-buy').disabled, null, { timeout: 20000 });
  const remainingBefore = await viewer.textContent('#sale-remaining');

  // Buy: address, reserve, pay with the sandbox card, confirmation.
  await viewer.click('#sale-buy');
  await viewer.fill('#flash-form [name=name]', 'Mei Buyer');
  await viewer.fill('#flash-form [name=line1]', '12 West Lake Road');
  await viewer.fill('#flash-form [name=city]', 'Hangzhou');
  await viewer.click('#flash-place');
  await viewer.waitForSelector('#checkout-pay', { timeout: 10000 });
  const payHeading = await viewer.textContent('#pay-form h2');
  check(payHeading.includes('9.90'), `the sale price is charged (${payHeading})`);
  await viewer.click('#checkout-pay');
  await viewer.waitForSelector('#checkout-done', { timeout: 20000 });
  const done = await viewer.textContent('#checkout-done');
  check(/Order \d+ is paid/.test(done), `confirmation (${done})`);
  const orderId = done.match(/Order (\d+)/)[1];
  // The room shows the stock going down.
  await viewer.waitForFunction((b) => document.querySelector('#sale-remaining').textContent !== b, remainingBefore, { timeout: 10000 });

  // The merchant sees it, paid.
  await host.goto(`${origin}/shop`);
  await host.waitForSelector(`#morder-${orderId}`, { timeout: 10000 });
  const row = await host.textContent(`#morder-${orderId}`);
  check(row.includes('paid'), `the merchant's order list shows the paid order (${row})`);

  // The books follow: on the earnings page the seller's pending balance is the price less the
  // platform's 5% fee (the host is the seller's own staff: no commission), and the statement
  // names the order.
  let earnings = '';
  for (let i = 0; i < 20 && !earnings.includes('9.41 CNY'); i++) {
    await host.goto(`${origin}/earnings`);
    await host.waitForFunction(() => document.querySelector('#balances').children.length > 0, null, { timeout: 10000 });
    earnings = await host.textContent('#balances');
    if (!earnings.includes('9.41 CNY')) await host.waitForTimeout(1000);
  }
  check(earnings.includes('9.41 CNY'), `the seller's pending earnings (${earnings})`);
  const seller = await host.evaluate(() => [...document.querySelectorAll('#account option')]
    .find((o) => /seller.*pending/.test(o.textContent)).value);
  await host.selectOption('#account', seller);
  await host.click('#show');
  await host.waitForFunction((id) => document.querySelector('#statement').textContent.includes(`order ${id}`), orderId, { timeout: 10000 });
  const line = await host.textContent('#statement');
  check(line.includes('order paid'), `the statement line (${line})`);

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ test: 'buy', countdown, order: orderId, card }));
} finally {
  await browser.close();
}
