// Co-hosting in real Chromium with fake cameras. The host (a phone page) goes live from the
// studio and invites a co-host; the guest (a second browser context, another streamer) opens
// the link, joins; each sees the other's video advance; what the host publishes is one picture
// with both side by side. The script prints `live` and waits for a line on stdin (the Rust test
// decodes the LL-HLS output meanwhile); then the host drops the guest, whose call ends, and
// ends the show. No console errors, no null/NaN, no sideways scroll.
// Usage: node cohost.mjs http://host host-email guest-email password slug
import { createInterface } from 'node:readline';
import { launch, check, layoutProblems, mediaPage, plays } from './lib.mjs';

const [origin, hostEmail, guestEmail, password, slug] = process.argv.slice(2);
const errors = [];
const browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

const host = await mediaPage(browser, origin, 'host', hostEmail, password, { width: 390, height: 844 }, errors);
await host.goto(`${origin}/studio?channel=${slug}`);
await host.click('#camera-on');
await host.waitForFunction(() => !document.querySelector('#go-live').disabled);
await host.click('#go-live');
await host.waitForSelector('#stop-live:not([hidden])').catch(async () => check(false, `going live failed: ${await host.textContent('#live-error')}`));
await host.click('#co-host-invite');
await host.waitForSelector('#co-host-link-row:not([hidden])');
const link = (await host.textContent('#co-host-link')).trim();
check(link.startsWith(`${origin}/studio/co-host/`), `invite link: ${link}`);

const guest = await mediaPage(browser, origin, 'guest', guestEmail, password, { width: 1280, height: 800 }, errors);
await guest.goto(link);
await guest.click('#join');
await plays(guest, '#host', 'the host, on the guest\'s page');
await plays(host, '#guest', 'the guest, in the host\'s studio');
await host.waitForFunction(() => /in the call/.test(document.querySelector('#co-host-status').innerText));

// What goes on air: both halves of the composite carry a picture.
const halves = await host.evaluate(() => {
  const c = window.__hawkerComposite;
  const g = c.getContext('2d');
  const spread = (x) => {
    const d = g.getImageData(x, 0, 640, 720).data;
    let sum = 0;
    let sq = 0;
    let n = 0;
    for (let i = 0; i < d.length; i += 4 * 97) {
      const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
      sum += y;
      sq += y * y;
      n++;
    }
    return sq / n - (sum / n) ** 2;
  };
  return { w: c.width, h: c.height, left: spread(0), right: spread(640) };
});
check(halves.w === 1280 && halves.h === 720, `composite size ${halves.w}×${halves.h}`);
check(halves.left > 50 && halves.right > 50, `both halves of the composite have a picture: ${JSON.stringify(halves)}`);
for (const [p, where] of [[host, 'studio (phone)'], [guest, 'co-host page (desktop)']]) {
  const problems = await layoutProblems(p);
  check(problems.length === 0, `${where}: ${problems.join('; ')}`);
}
console.log(`composite ${JSON.stringify(halves)}`);

console.log('live');
const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break;

// The host drops the guest: gone from the studio at once, the guest's call ends.
await host.click('#co-host-drop');
await host.waitForSelector('#guest-stage[hidden]', { state: 'attached' });
await guest.waitForFunction(() => {
  const pc = window.__hawkerCall && window.__hawkerCall.pc;
  return !pc || ['disconnected', 'failed', 'closed'].includes(pc.connectionState);
}, null, { timeout: 30000 }).catch(() => check(false, 'the dropped guest\'s call did not end'));
await host.click('#stop-live');
await host.waitForSelector('#go-live:not([hidden])');
check(errors.length === 0, errors.join('\n'));
await browser.close();
console.log('ok');
