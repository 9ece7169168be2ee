// A 1:1 video consult in real Chromium with fake cameras: a viewer (a phone) watching a car
// dealer's live show taps *Talk to the seller* on the pinned car, agrees to the notice and
// calls; the dealer (a desktop, the merchant console) accepts; each sees the other's video
// advance; the dealer ends the call with a note of what came of it; the viewer's dialog says
// the call ended. No console errors, no null/NaN, no sideways scroll.
// Usage: node consult.mjs http://host watch-url viewer-email dealer-email password outcome
import { launch, check, layoutProblems, mediaPage, plays } from './lib.mjs';

const [origin, watchUrl, viewerEmail, dealerEmail, password, outcome] = process.argv.slice(2);
const errors = [];
const browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

const viewer = await mediaPage(browser, origin, 'viewer', viewerEmail, password, { width: 390, height: 844 }, errors);
await viewer.goto(watchUrl);
await viewer.waitForSelector('#talk-pinned', { timeout: 20000 }).catch(() => check(false, 'no Talk to the seller on the pinned car'));
await viewer.click('#talk-pinned');
await viewer.waitForSelector('#consult-form');
await viewer.check('#consult-consent');
await viewer.click('#consult-request');
await viewer.waitForSelector('#consult-status');

const dealer = await mediaPage(browser, origin, 'dealer', dealerEmail, password, { width: 1280, height: 800 }, errors);
await dealer.goto(`${origin}/shop`);
await dealer.waitForSelector('#leads-panel:not([hidden]) .accept-lead', { timeout: 20000 })
  .catch(() => check(false, 'the dealer never saw the consult request'));
await dealer.click('.accept-lead');
await plays(dealer, '#consult-them', 'the viewer, in the merchant console');
await plays(viewer, '#consult-them', 'the dealer, on the viewer\'s phone');
for (const [p, where] of [[viewer, 'watch page with the call (phone)'], [dealer, 'merchant console with the call']]) {
  const problems = await layoutProblems(p);
  check(problems.length === 0, `${where}: ${problems.join('; ')}`);
}

await dealer.fill('#consult-outcome', outcome);
await dealer.click('#consult-end');
await dealer.waitForSelector('#consult-call[hidden]', { state: 'attached' });
await viewer.waitForFunction(() => /ended/.test(document.querySelector('#consult-status').textContent), null, { timeout: 15000 })
  .catch(() => check(false, 'the viewer was not told the call ended'));
await dealer.waitForFunction((o) => document.querySelector('#leads').innerText.includes(o), outcome)
  .catch(() => check(false, 'the outcome is not on the lead in the console'));
check(errors.length === 0, errors.join('\n'));
await browser.close();
console.log('ok');
