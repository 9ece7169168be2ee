// Shared by the browser tests: Debian's Chromium (never a downloaded one), headless, with the
// flags this sandbox needs (no background networking: the network is closed).
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.HAWKER_CHROMIUM || '/usr/bin/chromium';

/** `extra`: more Chromium flags (the WebRTC tests add the fake camera's). */
export async function launch(extra = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...extra,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export function check(cond, message) {
  if (!cond) {
    console.error(`FAIL: ${message}`);
    process.exit(1);
  }
}

/** Mean absolute difference between two RGBA frames grabbed from the video: > 0 means motion. */
export async function grabFrame(page, selector) {
  return page.evaluate((sel) => {
    const v = document.querySelector(sel);
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    return Array.from(g.getImageData(0, 0, c.width, c.height).data);
  }, selector);
}

export function difference(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

export function variance(a) {
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  return a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
}

/** What no page may show: "null", "undefined" or "NaN" in its visible text, or a sideways
 *  scrollbar. Returns the problems found (empty when none). */
export async function layoutProblems(page) {
  const r = await page.evaluate(() => ({
    text: document.body.innerText,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}`),
  }));
  const problems = [];
  for (const line of r.text.split('\n')) {
    if (/\b(null|undefined|NaN)\b/.test(line)) problems.push(`visible text says ${JSON.stringify(line.trim())}`);
  }
  if (r.scrollWidth > r.innerWidth) {
    problems.push(`scrolls sideways: ${r.scrollWidth} px wide in ${r.innerWidth} (${r.wide.join(', ')})`);
  }
  return problems;
}

/** A logged-in page of a context of its own that may use the (fake) camera and microphone;
 *  its exceptions and console errors go to `errors`. */
export async function mediaPage(browser, origin, who, email, password, viewport, errors) {
  const ctx = await browser.newContext({ viewport, permissions: ['camera', 'microphone'] });
  if (email) {
    const r = await ctx.request.post(`${origin}/api/v1/sessions`, { data: { email, password } });
    check(r.ok(), `${who} logs in (${r.status()})`);
  }
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => errors.push(`${who}: exception: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${who}: console: ${m.text()}`);
  });
  return page;
}

/** The video `sel` on `page` shows frames and its clock advances. */
export async function plays(page, sel, what) {
  await page.waitForFunction((s) => {
    const v = document.querySelector(s);
    return v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.3;
  }, sel, { timeout: 20000 }).catch(() => check(false, `${what} never played`));
  const t0 = await page.evaluate((s) => document.querySelector(s).currentTime, sel);
  await page.waitForTimeout(1200);
  const t1 = await page.evaluate((s) => document.querySelector(s).currentTime, sel);
  check(t1 - t0 > 0.8, `${what} advances (${t0} → ${t1})`);
}
