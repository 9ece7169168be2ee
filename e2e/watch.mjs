// The viewer page plays a live show in real Chromium through the low-latency MSE player:
// currentTime advances, frames are painted and they change. Prints the player's own figures.
// Usage: node watch.mjs http://host/c/slug
import { launch, check, grabFrame, difference, variance } from './lib.mjs';

const url = process.argv[2];
const browser = await launch();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__hawkerPlayer && window.__hawkerPlayer.stats().currentTime > 0.5, null, { timeout: 20000 });
  const s1 = await page.evaluate(() => window.__hawkerPlayer.stats());
  const f1 = await grabFrame(page, '#video');
  await page.waitForTimeout(3000);
  const s2 = await page.evaluate(() => window.__hawkerPlayer.stats());
  const f2 = await grabFrame(page, '#video');
  check(errors.length === 0, `page errors: ${errors.join('; ')}`);
  check(s2.mode === 'mse', `plays through MSE (mode ${s2.mode})`);
  check(s2.status === 'live', `status is live (${s2.status})`);
  check(s2.currentTime - s1.currentTime > 2.0, `currentTime advances (${s1.currentTime} → ${s2.currentTime})`);
  check(s2.framesPainted - s1.framesPainted > 45, `frames painted (${s1.framesPainted} → ${s2.framesPainted})`);
  check(variance(f2) > 100, 'the painted frame is a picture, not a flat colour');
  check(difference(f1, f2) > 1, 'the picture changes over time');
  const badge = await page.textContent('#badge');
  check(badge === 'Live', `badge says Live (${badge})`);
  console.log(JSON.stringify({ test: 'watch', latencyMs: Math.round(s2.latencyMs), bufferS: +s2.bufferS.toFixed(3), stalls: s2.stalls, framesPainted: s2.framesPainted }));
} finally {
  await browser.close();
}
