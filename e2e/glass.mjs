// Glass-to-glass delay of the viewer page: the publisher (ffmpeg, see bench `glass`) paints
// the wall clock (ms, 32 bits as 10-px black/white bars) into every frame as it is captured;
// here each frame's bars are read back the moment Chromium presents it, and compared with the
// wall clock of that presentation. Usage: node glass.mjs http://host/c/slug SECONDS
import { launch, check } from './lib.mjs';

const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__hawkerPlayer && window.__hawkerPlayer.stats().currentTime > 1, null, { timeout: 20000 });
  await page.waitForTimeout(3000); // let the player settle at its live edge
  const samples = await page.evaluate(async (ms) => {
    const v = document.getElementById('video');
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true });
    const out = [];
    const end = performance.now() + ms;
    await new Promise((resolve) => {
      const onFrame = (now, meta) => {
        g.drawImage(v, 0, 0);
        const row = g.getImageData(0, Math.floor(c.height / 4), c.width, 1).data;
        let value = 0;
        for (let i = 0; i < 32; i++) {
          const x = Math.floor((10 * i + 5) * (c.width / 320));
          if (row[4 * x] > 128) value += 2 ** i;
        }
        const shown = performance.timeOrigin + meta.expectedDisplayTime;
        let d = (Math.floor(shown) % 2 ** 32) - value;
        if (d < -(2 ** 31)) d += 2 ** 32;
        out.push(d);
        if (performance.now() < end) v.requestVideoFrameCallback(onFrame);
        else resolve();
      };
      v.requestVideoFrameCallback(onFrame);
    });
    return out;
  }, seconds * 1000);
  const ok = samples.filter((d) => d > 0 && d < 10000).sort((a, b) => a - b);
  check(ok.length > seconds * 10, `enough frames read back (${ok.length} of ${samples.length})`);
  const pct = (p) => ok[Math.round((ok.length - 1) * p)];
  const stats = await page.evaluate(() => window.__hawkerPlayer.stats());
  console.log(JSON.stringify({ test: 'glass', frames: ok.length, p50: pct(0.5), p95: pct(0.95), min: ok[0], max: ok[ok.length - 1], playerBufferS: +stats.bufferS.toFixed(3), stalls: stats.stalls }));
} finally {
  await browser.close();
}
