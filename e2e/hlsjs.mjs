// A third-party player, hls.js in low-latency mode, plays Hawker's LL-HLS playlist in real
// Chromium. Usage: node hlsjs.mjs http://host/live/slug/index.m3u8
import { createRequire } from 'node:module';
import { launch, check, grabFrame, variance } from './lib.mjs';

const require = createRequire(import.meta.url);
const hlsPath = require.resolve('hls.js/dist/hls.min.js');
const src = process.argv[2];
const browser = await launch();
try {
  const page = await browser.newPage();
  // Same origin as the stream, as a site embedding its own player would be.
  await page.goto(new URL('/healthz', src).href);
  await page.setContent('<video id="v" muted autoplay playsinline style="width:640px"></video>');
  await page.addScriptTag({ path: hlsPath });
  await page.evaluate((url) => {
    const hls = new window.Hls({ lowLatencyMode: true });
    window.__events = { fatal: null, levelLoaded: 0, partLoaded: 0 };
    hls.on(window.Hls.Events.ERROR, (_, d) => { if (d.fatal) window.__events.fatal = `${d.type}/${d.details}`; });
    hls.on(window.Hls.Events.LEVEL_LOADED, (_, d) => { window.__events.levelLoaded++; window.__events.lowLatency = d.details.partList !== null; });
    hls.on(window.Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) window.__events.partLoaded++; });
    hls.loadSource(url);
    hls.attachMedia(document.getElementById('v'));
    window.__hls = hls;
  }, src);
  await page.waitForFunction(() => document.getElementById('v').currentTime > 0.5, null, { timeout: 25000 });
  const t1 = await page.evaluate(() => document.getElementById('v').currentTime);
  await page.waitForTimeout(3000);
  const r = await page.evaluate(() => ({
    t: document.getElementById('v').currentTime,
    ev: window.__events,
    latency: window.__hls.latency,
    frames: document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames,
  }));
  const frame = await grabFrame(page, '#v');
  check(r.ev.fatal === null, `no fatal hls.js error (${r.ev.fatal})`);
  check(r.t - t1 > 2.0, `currentTime advances (${t1} → ${r.t})`);
  check(r.ev.lowLatency, 'hls.js sees the playlist as low-latency (parts listed)');
  check(r.ev.partLoaded > 0, `hls.js loads parts (${r.ev.partLoaded})`);
  check(r.frames > 30, `frames painted (${r.frames})`);
  check(variance(frame) > 100, 'the painted frame is a picture');
  console.log(JSON.stringify({ test: 'hlsjs', latencyS: +(r.latency || 0).toFixed(3), partsLoaded: r.ev.partLoaded, playlistReloads: r.ev.levelLoaded }));
} finally {
  await browser.close();
}
