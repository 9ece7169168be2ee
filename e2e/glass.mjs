// Glass-to-glass delay of the viewer page, over both of its paths, one after the other in one
// browser. Each publisher paints the wall clock (ms mod 2^32, 32 bits as black/white bars
// across the top half) into every frame as it is captured; the viewer page reads the bars back
// from each frame the moment Chromium presents it and compares them with the wall clock of
// that presentation.
//   1. MSE: ffmpeg (see bench `glass`) publishes over RTMP; the watch page plays LL-HLS/MSE.
//   2. WebRTC: a page here paints the clock into a canvas, publishes canvas.captureStream(30)
//      and an oscillator over WHIP (/assets/webrtc.js); the watch page plays it over WHEP.
// Prints one JSON line; any failure (a refused publish, a page that never plays, a fallback to
// LL-HLS during the WebRTC run, too few frames read) exits non-zero with FAIL: and no figures.
// Usage: node glass.mjs ORIGIN MSE_SLUG RTC_SLUG WHIP_URL STREAM_KEY SECONDS
import { launch, check } from './lib.mjs';

const [origin, mseSlug, rtcSlug, whipUrl, streamKey, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
// Two pages share the browser: neither may be throttled as a background page.
const browser = await launch([
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
]);

async function newPage(who) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`${who}: exception: ${e.message}`));
  return page;
}

/** Reads the clock from every frame `#video` presents for `ms`; per frame: delay (ms) and,
 *  for WebRTC, when its last packet arrived (ms before presentation). */
function readClock(ms) {
  const v = document.getElementById('video');
  const c = document.createElement('canvas');
  const g = c.getContext('2d', { willReadFrequently: true });
  const out = [];
  const end = performance.now() + ms;
  return new Promise((resolve) => {
    const onFrame = (now, meta) => {
      if (c.width !== meta.width || c.height !== meta.height) {
        c.width = meta.width;
        c.height = meta.height;
      }
      g.drawImage(v, 0, 0, c.width, c.height);
      const row = g.getImageData(0, Math.floor(c.height / 4), c.width, 1).data;
      let value = 0;
      for (let i = 0; i < 32; i++) {
        const x = Math.floor((10 * i + 5) * (c.width / 320));
        if (row[4 * x] > 128) value += 2 ** i;
      }
      const shown = performance.timeOrigin + meta.expectedDisplayTime;
      let d = (Math.floor(shown) % 2 ** 32) - value;
      if (d < -(2 ** 31)) d += 2 ** 32;
      const sample = { d, w: meta.width, h: meta.height };
      if (meta.receiveTime !== undefined) sample.recv = meta.expectedDisplayTime - meta.receiveTime;
      out.push(sample);
      if (performance.now() < end) v.requestVideoFrameCallback(onFrame);
      else resolve(out);
    };
    v.requestVideoFrameCallback(onFrame);
  });
}

const pct = (xs, p) => xs[Math.round((xs.length - 1) * p)];
const round = (x, n = 1) => (Number.isFinite(x) ? +x.toFixed(n) : null);

/** The delays that are clocks read right (a misread high bit lands far outside), sorted. */
function summary(what, samples) {
  const ok = samples.filter((s) => s.d > 0 && s.d < 10000).sort((a, b) => a.d - b.d);
  check(ok.length > seconds * 10, `${what}: enough frames read back (${ok.length} of ${samples.length})`);
  const ds = ok.map((s) => s.d);
  const r = { frames: ok.length, presented: samples.length, p50: pct(ds, 0.5), p95: pct(ds, 0.95), min: ds[0], max: ds[ds.length - 1] };
  const last = samples[samples.length - 1];
  r.size = `${last.w}x${last.h}`;
  // WebRTC tells when each frame's last packet came: the delay splits at that moment into
  // paint → received (capture, encode, send, Hawker, loopback) and received → shown (jitter
  // buffer, decode, compositor).
  const withRecv = ok.filter((s) => s.recv !== undefined);
  if (withRecv.length) {
    const sorted = (xs) => xs.sort((a, b) => a - b);
    r.paintToReceivedP50 = round(pct(sorted(withRecv.map((s) => s.d - s.recv)), 0.5));
    r.receivedToShownP50 = round(pct(sorted(withRecv.map((s) => s.recv)), 0.5));
  }
  return r;
}

async function mse() {
  const page = await newPage('mse viewer');
  await page.goto(`${origin}/c/${mseSlug}`);
  await page.waitForFunction(() => window.__hawkerPlayer && window.__hawkerPlayer.stats().currentTime > 1, null, { timeout: 20000 })
    .catch(() => check(false, 'the MSE viewer page never played'));
  await page.waitForTimeout(3000); // let the player settle at its live edge
  const r = summary('MSE', await page.evaluate(readClock, seconds * 1000));
  const stats = await page.evaluate(() => window.__hawkerPlayer.stats());
  r.playerBufferS = +stats.bufferS.toFixed(3);
  r.stalls = stats.stalls;
  await page.close();
  return r;
}

/** The publisher page: a blank document on the server's origin (so /assets/webrtc.js and the
 *  WHIP endpoint are same-origin) that paints the clock and publishes over WHIP. */
async function publish() {
  const page = await newPage('publisher');
  await page.route(`${origin}/__glass-publisher`, (r) =>
    r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>glass publisher</title><canvas id="c" width="640" height="360"></canvas>' }),
  );
  await page.goto(`${origin}/__glass-publisher`);
  const refused = await page.evaluate(async ([url, key]) => {
    const c = document.getElementById('c');
    const g = c.getContext('2d');
    const bar = c.width / 32;
    const paint = () => {
      const now = Math.floor(performance.timeOrigin + performance.now()) % 2 ** 32;
      g.fillStyle = 'rgb(40,40,40)';
      g.fillRect(0, c.height / 2, c.width, c.height / 2);
      for (let i = 0; i < 32; i++) {
        g.fillStyle = Math.floor(now / 2 ** i) % 2 ? '#fff' : '#000';
        g.fillRect(i * bar, 0, bar, c.height / 2);
      }
      requestAnimationFrame(paint);
    };
    paint();
    const stream = c.captureStream(30);
    const ac = new AudioContext({ sampleRate: 48000 });
    const osc = ac.createOscillator();
    osc.frequency.value = 440;
    const gain = ac.createGain();
    gain.gain.value = 0.05;
    const dest = ac.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    stream.addTrack(dest.stream.getAudioTracks()[0]);
    const { whipPublish } = await import('/assets/webrtc.js');
    try {
      window.__glassSession = await whipPublish(url, key, stream);
      return null;
    } catch (e) {
      return e.message || String(e);
    }
  }, [whipUrl, streamKey]);
  check(refused === null, `the WHIP publish was refused: ${refused}`);
  await page
    .waitForFunction(() => window.__glassSession.pc.connectionState === 'connected', null, { timeout: 15000 })
    .catch(() => check(false, 'the WHIP connection never came up'));
  return page;
}

/** What getStats says about the video of `pc` (`window[name].pc`), outbound or inbound. */
function videoStats(name) {
  return window[name].pc.getStats().then((report) => {
    const s = {};
    report.forEach((r) => {
      if (r.kind === 'video' && r.type === 'outbound-rtp') {
        Object.assign(s, {
          encoder: r.encoderImplementation,
          encodeMs: (1000 * r.totalEncodeTime) / r.framesEncoded,
          sentFps: r.framesPerSecond,
          sentSize: `${r.frameWidth}x${r.frameHeight}`,
          bitrateKbps: r.targetBitrate / 1000,
          limitedBy: r.qualityLimitationReason,
          packetSendDelayMs: (1000 * r.totalPacketSendDelay) / r.packetsSent,
          nacks: r.nackCount,
          plis: r.pliCount,
        });
      }
      if (r.kind === 'video' && r.type === 'inbound-rtp') {
        Object.assign(s, {
          decoder: r.decoderImplementation,
          decodeMs: (1000 * r.totalDecodeTime) / r.framesDecoded,
          jitterBufferMs: (1000 * r.jitterBufferDelay) / r.jitterBufferEmittedCount,
          assemblyMs: r.framesAssembledFromMultiplePackets ? (1000 * r.totalAssemblyTime) / r.framesAssembledFromMultiplePackets : 0,
          receiveToDecodedMs: (1000 * r.totalProcessingDelay) / r.framesDecoded,
          framesDropped: r.framesDropped,
          packetsLost: r.packetsLost,
          nacks: r.nackCount,
          freezes: r.freezeCount,
        });
      }
      if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) {
        s.rttMs = 1000 * r.currentRoundTripTime;
      }
    });
    return s;
  });
}

function rounded(s) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));
}

async function webrtc() {
  const publisher = await publish();
  // The watch page chooses WHEP only when the channel says it is live over WebRTC.
  let live = false;
  for (let i = 0; i < 100 && !live; i++) {
    const r = await fetch(`${origin}/api/v1/channels/${rtcSlug}`);
    live = r.ok && (await r.json()).webrtc === true;
    if (!live) await new Promise((ok) => setTimeout(ok, 100));
  }
  check(live, 'the channel never said it was live over WebRTC');
  const page = await newPage('webrtc viewer');
  await page.goto(`${origin}/c/${rtcSlug}`);
  await page
    .waitForFunction(() => window.__hawkerWhep && document.getElementById('video').srcObject, null, { timeout: 15000 })
    .catch(async () => check(false, `the watch page did not play over WHEP (${await page.evaluate(() => window.__hawkerWhepError)})`));
  await page
    .waitForFunction(() => {
      const v = document.getElementById('video');
      return v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 1;
    }, null, { timeout: 15000 })
    .catch(() => check(false, 'the WHEP video never played'));
  await page.waitForTimeout(2000); // the sender's bandwidth estimate ramps up
  const samples = await page.evaluate(readClock, seconds * 1000);
  // Still WebRTC at the end: a fallback to LL-HLS meanwhile would have measured MSE.
  check(await page.evaluate(() => !!window.__hawkerWhep), 'the watch page fell back to LL-HLS during the run');
  const r = summary('WebRTC', samples);
  r.sender = rounded(await publisher.evaluate(videoStats, '__glassSession'));
  r.receiver = rounded(await page.evaluate(videoStats, '__hawkerWhep'));
  await page.close();
  await publisher.evaluate(() => window.__glassSession.stop());
  await publisher.close();
  return r;
}

try {
  const m = await mse();
  const w = await webrtc();
  console.log(JSON.stringify({ test: 'glass', mse: m, webrtc: w }));
} finally {
  await browser.close();
}
