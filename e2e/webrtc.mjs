// Going live from a phone's browser over WHIP, and watching over WHEP, in real Chromium with
// its fake camera and microphone. The streamer (a 390×844 page) opens the studio, turns the
// camera on, goes live; the checks show what is sent. A viewer (a desktop page) opens the
// watch page, which plays over WebRTC: its frames advance. Then the script prints `live` and
// waits for a line on stdin (the Rust test decodes the LL-HLS output meanwhile), ends the show
// from the studio and exits. Any console error, null/NaN or sideways scroll fails it.
// Usage: node webrtc.mjs http://host email password slug
import { createInterface } from 'node:readline';
import { launch, check, layoutProblems, grabFrame, difference, mediaPage } from './lib.mjs';

const [origin, email, password, slug] = process.argv.slice(2);
const errors = [];
const browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

const studio = await mediaPage(browser, origin, 'studio', email, password, { width: 390, height: 844 }, errors);
await studio.goto(`${origin}/studio?channel=${slug}`);
await studio.click('#camera-on');
await studio.waitForFunction(() => !document.querySelector('#go-live').disabled);
await studio.click('#go-live');
await studio.waitForSelector('#stop-live:not([hidden])').catch(async () => {
  check(false, `going live failed: ${await studio.textContent('#live-error')}`);
});
// The checks show real sending figures once the connection is up.
await studio.waitForFunction(() => /Sending\s*[1-9]\d* kbit\/s, [1-9]\d* fps/.test(document.querySelector('#checks').innerText), null, { timeout: 20000 })
  .catch(async () => check(false, `studio checks never showed sending: ${await studio.textContent('#checks')}`));
let problems = await layoutProblems(studio);
check(problems.length === 0, `studio (phone): ${problems.join('; ')}`);

// The viewer plays over WHEP once the channel says it is live over WebRTC.
const viewer = await mediaPage(browser, origin, 'viewer', null, null, { width: 1280, height: 800 }, errors);
await viewer.goto(`${origin}/c/${slug}`);
await viewer.waitForFunction(() => window.__hawkerWhep && document.querySelector('#video').srcObject, null, { timeout: 15000 })
  .catch(() => check(false, 'the watch page did not play over WHEP'));
await viewer.waitForFunction(() => {
  const v = document.querySelector('#video');
  return v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.5;
}, null, { timeout: 15000 }).catch(() => check(false, 'WHEP video never played'));
const a = await grabFrame(viewer, '#video');
const t0 = await viewer.evaluate(() => document.querySelector('#video').currentTime);
await viewer.waitForTimeout(1500);
const b = await grabFrame(viewer, '#video');
const t1 = await viewer.evaluate(() => document.querySelector('#video').currentTime);
check(t1 - t0 > 1, `WHEP playback advances (${t0} → ${t1})`);
check(difference(a, b) > 0.5, 'WHEP frames change (the fake camera moves)');
const frames = await viewer.evaluate(() => document.querySelector('#video').getVideoPlaybackQuality().totalVideoFrames);
check(frames > 20, `WHEP decoded frames: ${frames}`);
problems = await layoutProblems(viewer);
check(problems.length === 0, `watch (WHEP): ${problems.join('; ')}`);
// The WHEP player counts as a viewer while media flows to it (and nobody else plays).
const counted = await viewer.waitForFunction(async (s) => {
  const shows = await (await fetch('/api/v1/shows')).json();
  const mine = shows.find((x) => x.channel === s);
  return mine && mine.viewers >= 1;
}, slug, { timeout: 15000, polling: 1000 }).then(() => true, () => false);
check(counted, 'the WHEP viewer is counted in the live show\'s viewers');
console.log(`whep frames ${frames}`);

console.log('live');
const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break;

await studio.click('#stop-live');
await studio.waitForSelector('#go-live:not([hidden])');
// The WHEP viewer hears that the show ended (from the room) and says so.
await viewer.waitForFunction(() => document.querySelector('#badge').textContent === 'Ended', null, { timeout: 20000 })
  .catch(async () => check(false, `the WHEP viewer was not told the show ended: badge ${await viewer.textContent('#badge')}, ${await viewer.textContent('#center')}`));
check(errors.length === 0, errors.join('\n'));
await browser.close();
console.log('ok');
