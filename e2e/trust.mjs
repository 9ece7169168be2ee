// Trust in real Chromium. An unverified streamer's studio says they cannot go live and takes
// their real-name details; an ops reviewer approves them in the ops console and the studio
// moves on to the rules course; a verified 15-year-old viewer tries to send a gift in a live
// show and the page shows the platform's refusal.
// Usage: node trust.mjs http://host/c/slug admin-email admin-password
import { launch, check } from './lib.mjs';

const [url, adminEmail, adminPassword] = process.argv.slice(2);
const origin = new URL(url).origin;
const browser = await launch();
const errors = [];
try {
  const ops = await browser.newContext();
  const streamer = await browser.newContext();
  const minor = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const pages = {};
  for (const [n, c] of Object.entries({ ops, streamer, minor })) {
    pages[n] = await c.newPage();
    pages[n].on('pageerror', (e) => errors.push(`${n}: ${e.message}`));
  }
  let r = await ops.request.post(`${origin}/api/v1/sessions`, { data: { email: adminEmail, password: adminPassword } });
  check(r.ok(), `the reviewer logs in (${r.status()})`);
  const stamp = Date.now();
  r = await streamer.request.post(`${origin}/api/v1/accounts`, {
    data: { email: `farmer${stamp}@example.com`, password: 'correct horse battery', display_name: 'New Farmer', role: 'streamer' },
  });
  check(r.ok(), `the streamer signs up (${r.status()})`);

  // 1. Unverified: the studio says so, and takes the real-name details (with the document).
  const s = pages.streamer;
  await s.goto(`${origin}/studio`);
  await s.waitForSelector('#trust-status[data-blocked-by="verification_required"]', { timeout: 10000 });
  const said = await s.textContent('#trust-status');
  check(said.includes('cannot go live'), `the studio refuses going live (${said})`);
  await s.fill('#id-name', `Farmer ${stamp}`);
  await s.fill('#id-number', '330283198001010039');
  await s.fill('#id-born', '1980-01-01');
  await s.setInputFiles('#id-doc', { name: 'id.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]) });
  await s.click('#id-submit');
  await s.waitForSelector('#trust-status[data-blocked-by="verification_pending"]', { timeout: 10000 });

  // 2. The reviewer approves in the ops console; the streamer's next step is the course.
  const o = pages.ops;
  await o.goto(`${origin}/ops`);
  const row = o.locator('tr[data-check]', { hasText: `Farmer ${stamp}` });
  await row.waitFor({ timeout: 10000 });
  const rowText = await row.textContent();
  check(rowText.includes('••••••••0039') && !rowText.includes('330283198001010039'), `the ID number is masked (${rowText})`);
  await row.getByRole('button', { name: 'Approve' }).click();
  await row.waitFor({ state: 'detached', timeout: 10000 });
  await s.reload();
  await s.waitForSelector('#trust-status[data-blocked-by="training_required"]', { timeout: 10000 });
  check(await s.isVisible('#course'), 'the course is offered after approval');
  const fraud = await o.textContent('#risk');

  // 3. A verified minor cannot send a gift in the live show.
  r = await minor.request.post(`${origin}/api/v1/accounts`, {
    data: { email: `kid${stamp}@example.com`, password: 'correct horse battery', display_name: 'Kid', role: 'viewer' },
  });
  check(r.ok(), `the minor signs up (${r.status()})`);
  r = await minor.request.post(`${origin}/api/v1/me/identity`, {
    data: { legal_name: 'Kid Wang', id_number: '330283201101010011', birth_date: '2011-01-01' },
  });
  check(r.ok(), `the minor submits a real-name check (${r.status()})`);
  const check_ = await r.json();
  r = await ops.request.post(`${origin}/api/v1/admin/trust/identity/${check_.id}/review`, { data: { approve: true } });
  check(r.status() === 204, `the reviewer approves the minor (${r.status()})`);
  const m = pages.minor;
  await m.goto(url);
  await m.waitForSelector('[data-gift]', { timeout: 15000 });
  await m.click('[data-gift]');
  await m.waitForSelector('#gift-msg[data-code="minor_spending"]', { timeout: 10000 });
  const refusal = await m.textContent('#gift-msg');
  check(/minors/i.test(refusal), `the refusal is explained (${refusal})`);

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ test: 'trust', refusal, fraud_queue_rows: fraud.length > 0 }));
} finally {
  await browser.close();
}
