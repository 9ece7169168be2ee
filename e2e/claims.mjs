// A defect claim in real Chromium, through the three pages that handle one. The buyer of a
// delivered perishable order reports a defect with a photo on the orders page (a phone); the
// seller disputes it in the merchant console (a phone), with a reason; the platform admin
// upholds it in the ops console (a desktop) with a refund the buyer keeps the goods for; the
// buyer's orders page then shows the order refunded and the claim upheld with both notes.
// A staff streamer of the shop (whose role does not handle orders) does not see the panel.
// Each page, at both sizes, shows no null/undefined/NaN, does not scroll sideways, and logs
// no error.
// Usage: node claims.mjs http://host order-id buyer-email seller-email staff-email admin-email admin-password
import { launch, check, layoutProblems } from './lib.mjs';

const [origin, order, buyerEmail, sellerEmail, staffEmail, adminEmail, adminPassword] = process.argv.slice(2);
const PASSWORD = 'correct horse battery';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const DESCRIPTION = 'The tulips arrived wilted and brown, the stems slimy.';
const DISPUTE = 'They were fresh when they left our stall.';
const DECISION = 'The photo shows wilted flowers on arrival.';
// A real 8×8 PNG, so the thumbnail has something to draw.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM4YWODFTEMLQkAZZlQAVIPr1MAAAAASUVORK5CYII=', 'base64');

const errors = [];
const browser = await launch();

/** A logged-in page of its own context, its errors collected (with `refusals`, only its
 *  exceptions: the API's 403s are the point there). */
async function pageFor(who, email, password, viewport, { refusals = false } = {}) {
  const ctx = await browser.newContext({ viewport });
  const r = await ctx.request.post(`${origin}/api/v1/sessions`, { data: { email, password } });
  check(r.ok(), `${who} logs in (${r.status()})`);
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => errors.push(`${who}: exception: ${e.message}`));
  if (refusals) return page;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${who}: console: ${m.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`${who}: HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return page;
}

async function fits(page, where) {
  await page.waitForTimeout(300);
  const problems = await layoutProblems(page);
  check(problems.length === 0, `${where}: ${problems.join('; ')}`);
}

/** Every thumbnail in `scope` has loaded its photo (the photo needs the session's cookie). */
async function photosLoaded(page, scope, where) {
  await page.locator(`${scope} .thumbs`).first().scrollIntoViewIfNeeded(); // they load lazily
  await page.waitForFunction((sel) => {
    const imgs = [...document.querySelectorAll(`${sel} .thumbs img`)];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, scope, { timeout: 10000 }).catch(() => check(false, `${where}: the photo thumbnails do not load`));
  const links = await page.$$eval(`${scope} .thumbs a`, (as) => as.map((a) => a.getAttribute('href')));
  check(links.every((l) => /^\/api\/v1\/defect-claims\/\d+\/photos\/\d+$/.test(l)), `${where}: thumbnails link to the photos (${links})`);
  return links;
}

let claimId;
try {
  // 1. The buyer reports the defect from the orders page, on a phone.
  const buyer = await pageFor('buyer', buyerEmail, PASSWORD, PHONE);
  const card = `#order-${order}`;
  await buyer.goto(`${origin}/orders`);
  await buyer.waitForSelector(`${card}[data-state="delivered"]`);
  check(await buyer.isHidden(`${card} form[data-defect-form]`), 'the report form waits for its button');
  await buyer.click(`${card} [data-action="report-defect"]`);
  const form = `${card} form[data-defect-form]`;
  await buyer.waitForSelector(form, { state: 'visible' });
  const note = await buyer.textContent(`${form} p`);
  check(/perishable/.test(note) && /report a defect by \w+ \d+/.test(note), `the form says by when perishables are reported (${note})`);
  await fits(buyer, '/orders with the report form (phone)');
  // Too short: the page says why, nothing is filed.
  await buyer.fill(`${form} textarea`, 'wilted');
  await buyer.click(`${form} button[type="submit"]`);
  const short = await buyer.textContent(`${form} .error`);
  check(/10 characters/.test(short), `a short description is refused (${short})`);
  await buyer.fill(`${form} textarea`, DESCRIPTION);
  await buyer.setInputFiles(`${form} input[type="file"]`, { name: 'tulips.png', mimeType: 'image/png', buffer: PNG });
  await buyer.click(`${form} button[type="submit"]`);
  await buyer.waitForSelector(`${card} .claim[data-state="open"]`);
  claimId = await buyer.getAttribute(`${card} .claim`, 'data-claim');
  const filed = await buyer.textContent(`${card} .claim`);
  check(filed.includes(DESCRIPTION) && /report by/.test(filed), `the order shows the claim (${filed})`);
  check(await buyer.isHidden(`${card} [data-action="report-defect"]`), 'no second report while one is under way');
  check((await buyer.textContent(`${card} .state`)).includes('return requested'), 'the order waits for the claim');
  await photosLoaded(buyer, card, 'buyer');
  await fits(buyer, '/orders with an open claim (phone)');

  // 2. The seller disputes it in the merchant console, on a phone, with a reason.
  const seller = await pageFor('seller', sellerEmail, PASSWORD, PHONE);
  acceptDialogs(seller);
  await seller.goto(`${origin}/shop`);
  const row = `#defect-claims tr[data-claim="${claimId}"]`;
  await seller.waitForSelector(`${row}[data-state="open"]`);
  const listed = await seller.textContent(row);
  check(listed.includes(DESCRIPTION) && listed.includes(order), `the console lists the claim (${listed})`);
  check(/\d waiting/.test(await seller.textContent('#claims-count')), 'the panel counts the open claims');
  await photosLoaded(seller, row, 'seller');
  for (const action of ['accept-keep', 'accept-return', 'dispute']) {
    check(await seller.isVisible(`${row} button[data-action="${action}"]`), `the open claim offers ${action}`);
  }
  await fits(seller, '/shop with an open claim (phone)');
  await seller.click(`${row} button[data-action="dispute"]`);
  await seller.click(`${row} button[data-action="send-dispute"]`);
  const empty = await seller.textContent(`${row} .error`);
  check(/why/i.test(empty), `a dispute without a reason is refused (${empty})`);
  await seller.fill(`${row} textarea`, DISPUTE);
  await seller.click(`${row} button[data-action="send-dispute"]`);
  await seller.waitForSelector(`${row}[data-state="disputed"]`);
  const disputed = await seller.textContent(row);
  check(disputed.includes(DISPUTE), `the row shows the seller's reason (${disputed})`);
  check(!(await seller.$(`${row} button[data-action="accept-keep"]`)), 'a disputed claim has no answer buttons');
  await fits(seller, '/shop with a disputed claim (phone)');

  // 3. The platform upholds it in the ops console, on a desktop: a refund, the goods kept.
  const ops = await pageFor('ops', adminEmail, adminPassword, DESKTOP);
  await ops.goto(`${origin}/ops`);
  const q = `#defect-claims tr[data-claim="${claimId}"]`;
  await ops.waitForSelector(`${q}[data-state="disputed"]`);
  const queued = await ops.textContent(q);
  check(queued.includes(DESCRIPTION) && queued.includes(DISPUTE), `the queue shows the claim and the seller's note (${queued})`);
  await photosLoaded(ops, q, 'ops');
  await fits(ops, '/ops with a disputed claim (desktop)');
  // No decision without its reason.
  await ops.click(`${q} button[data-action="reject"]`);
  const why = await ops.textContent(`${q} .error`);
  check(/reason/.test(why), `a decision without a note is refused (${why})`);
  check(await ops.getAttribute(q, 'data-state') === 'disputed', 'still disputed');
  await ops.selectOption(`${q} select[name="remedy"]`, 'refund_without_return');
  await ops.fill(`${q} textarea`, DECISION);
  await ops.click(`${q} button[data-action="uphold"]`);
  await ops.waitForSelector(q, { state: 'detached' });
  await fits(ops, '/ops after the decision (desktop)');

  // 4. The buyer's order: refunded, the claim upheld, both notes and the remedy shown.
  await buyer.reload();
  await buyer.waitForSelector(`${card}[data-state="refunded"] .claim[data-state="upheld"]`);
  const done = await buyer.textContent(card);
  for (const want of ['refunded', 'upheld', 'the goods are kept', DISPUTE, DECISION, 'Your money has been refunded']) {
    check(done.includes(want), `the refunded order says "${want}" (${done})`);
  }
  check(!(await buyer.$(`${card} [data-action="report-defect"]`)), 'a refunded order offers no defect report');
  await fits(buyer, '/orders refunded (phone)');

  // 5. A staff streamer's console has no claims panel (the API answers 403), and works.
  const staff = await pageFor('staff', staffEmail, PASSWORD, PHONE, { refusals: true });
  const refused = staff.waitForResponse((r) => r.url().includes('/defect-claims') && r.status() === 403);
  await staff.goto(`${origin}/shop`);
  await refused;
  await staff.waitForSelector('#products tr + tr');
  await staff.waitForTimeout(500);
  check(await staff.isHidden('#claims-panel'), 'the claims panel is hidden from a role that cannot answer claims');
  await fits(staff, '/shop as a staff streamer (phone)');

  // 6. The other size of each page.
  await buyer.setViewportSize(DESKTOP);
  await buyer.reload();
  await buyer.waitForSelector(`${card} .claim[data-state="upheld"]`);
  await fits(buyer, '/orders refunded (desktop)');
  await seller.setViewportSize(DESKTOP);
  await seller.reload();
  await seller.waitForSelector(`${row}[data-state="upheld"]`);
  const sellerDone = await seller.textContent(row);
  check(sellerDone.includes(DECISION), `the seller reads the platform's reason (${sellerDone})`);
  await fits(seller, '/shop with an upheld claim (desktop)');
  await ops.setViewportSize(PHONE);
  await ops.reload();
  await ops.waitForSelector('#defect-claims td');
  await fits(ops, '/ops (phone)');

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ test: 'claims', order, claim: claimId, refunded: true }));
} finally {
  await browser.close();
}

/** The console's confirmations are accepted, as a person would. */
function acceptDialogs(page) {
  page.on('dialog', (d) => d.accept());
}
