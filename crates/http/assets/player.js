// Hawker's low-latency player: fMP4 chunks over a WebSocket, appended to a Media Source
// Extensions buffer as they arrive, kept near the live edge. Falls back to native HLS where
// MSE is missing (Safari on iPhone before ManagedMediaSource). No third-party code.

const MS = window.ManagedMediaSource || window.MediaSource;

export class LivePlayer {
  /**
   * @param {HTMLVideoElement} video
   * @param {{feedUrl: string, hlsUrl: string, onStatus?: (s: string) => void}} opts
   */
  constructor(video, opts) {
    this.video = video;
    this.opts = opts;
    this.status = 'connecting';
    this.queue = [];
    this.codecs = null;
    this.ms = null;
    this.sb = null;
    this.ws = null;
    this.timing = []; // [mediaSeconds, arrivedMs], oldest first
    this.targetLatency = 0.4; // seconds of buffer kept behind the newest frame
    this.stalls = 0;
    this.jumps = 0;
    this.lastStallAt = -Infinity;
    this.lastProgress = { t: -1, at: performance.now() };
    this.backoff = 500;
    this.stopped = false;
    this.started = false;
    this.tick = setInterval(() => this.control(), 200);
    this.playing = false; // set by the first 'playing': the start-up wait is not a stall
    video.addEventListener('playing', () => (this.playing = true));
    video.addEventListener('waiting', () => this.onWaiting());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.seekLive();
    });
  }

  start() {
    if (MS && MS.isTypeSupported && MS.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')) {
      this.connect();
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.mode = 'native-hls';
      this.video.src = this.hlsSrc();
      this.video.play().catch(() => this.setStatus('tap-to-play'));
      this.setStatus('live');
    } else {
      this.setStatus('unsupported');
    }
  }

  /**
   * The room connection's playback token: shown to the origin with the media requests, so the
   * room counts this page as a viewer while media reaches it (a room socket alone never counts).
   */
  setPlaybackToken(token) {
    if (!token || token === this.pt) return;
    this.pt = token;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ t: 'pt', token }));
    if (this.mode === 'native-hls') this.video.src = this.hlsSrc();
  }

  hlsSrc() {
    return this.pt ? `${this.opts.hlsUrl}?pt=${encodeURIComponent(this.pt)}` : this.opts.hlsUrl;
  }

  /** After an ended show: wait for the next one on the same channel. */
  restart() {
    if (this.status !== 'ended') return;
    this.setStatus('connecting');
    this.backoff = 500;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.tick);
    if (this.ws) this.ws.close();
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.opts.onStatus && this.opts.onStatus(s);
  }

  connect() {
    this.mode = 'mse';
    const ws = new WebSocket(this.opts.feedUrl);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (this.pt) ws.send(JSON.stringify({ t: 'pt', token: this.pt }));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') return this.onStatusMessage(JSON.parse(ev.data));
      this.onBinary(new Uint8Array(ev.data));
    };
    ws.onclose = () => {
      if (this.stopped || this.status === 'ended') return;
      if (this.status !== 'offline') this.setStatus('reconnecting');
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  onStatusMessage(m) {
    if (m.type === 'live') {
      this.backoff = 500;
      this.setStatus('live');
    } else if (m.type === 'offline') {
      this.setStatus('offline');
      this.backoff = 3000;
    } else if (m.type === 'ended') {
      this.setStatus('ended');
    }
  }

  onBinary(b) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b[0] === 1) {
      const n = dv.getUint16(1);
      const codecs = new TextDecoder().decode(b.subarray(3, 3 + n));
      const init = b.subarray(3 + n);
      if (codecs !== this.codecs || !this.sb) {
        this.codecs = codecs;
        this.openMediaSource(codecs);
      }
      this.queue.push(init);
    } else if (b[0] === 2) {
      const arrived = Number(dv.getBigInt64(2));
      const decodeTime = Number(dv.getBigUint64(10)) / 90000;
      if (arrived > 0) {
        this.timing.push([decodeTime, arrived]);
        if (this.timing.length > 600) this.timing.splice(0, 300);
      }
      this.queue.push(b.subarray(18));
    }
    this.pump();
  }

  openMediaSource(codecs) {
    const ms = new MS();
    this.ms = ms;
    this.sb = null;
    this.started = false;
    this.playing = false;
    const pending = this.queue;
    this.queue = [];
    this.video.disableRemotePlayback = true; // required by ManagedMediaSource
    this.video.src = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', () => {
      if (this.ms !== ms) return;
      const sb = ms.addSourceBuffer(`video/mp4; codecs="${codecs}"`);
      sb.mode = 'segments';
      sb.addEventListener('updateend', () => this.pump());
      sb.addEventListener('error', () => this.reset());
      this.sb = sb;
      this.queue = pending.concat(this.queue);
      this.pump();
    });
  }

  reset() {
    this.codecs = null;
    this.sb = null;
    if (this.ws) this.ws.close();
  }

  pump() {
    const sb = this.sb;
    if (!sb || sb.updating || this.queue.length === 0) return;
    // Append everything queued in one go: fewer updateend round trips.
    let len = 0;
    for (const q of this.queue) len += q.length;
    const data = new Uint8Array(len);
    let o = 0;
    for (const q of this.queue) {
      data.set(q, o);
      o += q.length;
    }
    this.queue = [];
    try {
      sb.appendBuffer(data);
    } catch (e) {
      if (e.name === 'QuotaExceededError') {
        this.queue.unshift(data);
        this.trim(true);
      } else {
        this.reset();
      }
    }
  }

  trim(force) {
    const sb = this.sb;
    const v = this.video;
    if (!sb || sb.updating || sb.buffered.length === 0) return;
    const start = sb.buffered.start(0);
    const keep = force ? 4 : 20;
    if (v.currentTime - start > keep + 10) sb.remove(start, v.currentTime - keep);
  }

  liveEdge() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) : null;
  }

  seekLive() {
    const end = this.liveEdge();
    if (end === null) return;
    this.video.currentTime = Math.max(0, end - this.targetLatency);
    this.jumps++;
  }

  onWaiting() {
    if (!this.playing) return;
    const now = performance.now();
    this.stalls++;
    // Each stall buys a little more safety margin; quiet minutes give it back.
    if (now - this.lastStallAt < 60000) this.targetLatency = Math.min(2.0, this.targetLatency + 0.2);
    this.lastStallAt = now;
  }

  control() {
    const v = this.video;
    if (this.mode !== 'mse') return;
    const end = this.liveEdge();
    if (end === null) return;
    if (!this.started) {
      this.started = true;
      this.seekLive();
      v.play().catch(() => {
        v.muted = true;
        v.play().catch(() => this.setStatus('tap-to-play'));
      });
      return;
    }
    const now = performance.now();
    if (this.jumpGap()) return;
    const lag = end - v.currentTime;
    if (v.currentTime !== this.lastProgress.t) this.lastProgress = { t: v.currentTime, at: now };
    const stuck = !v.paused && now - this.lastProgress.at > 1500 && lag > 0.3;
    if (lag > 3 || stuck || !this.inBuffered(v.currentTime)) {
      this.seekLive();
    } else if (lag > this.targetLatency + 0.15) {
      v.playbackRate = 1 + Math.min(0.15, (lag - this.targetLatency) / 4);
    } else {
      v.playbackRate = 1;
    }
    if (now - this.lastStallAt > 60000 && this.targetLatency > 0.3) {
      this.targetLatency -= 0.05;
      this.lastStallAt = now - 50000;
    }
    this.trim(false);
  }

  /** Starved at the end of one buffered range with another just ahead (a hole left by a
   * reconnect or lost audio): step over it rather than wait. */
  jumpGap() {
    const v = this.video;
    if (v.readyState >= 3 || v.seeking) return false;
    const b = v.buffered;
    for (let i = 0; i < b.length; i++) {
      const gap = b.start(i) - v.currentTime;
      if (gap > 0 && gap < 1.0) {
        v.currentTime = b.start(i) + 0.02;
        this.jumps++;
        return true;
      }
    }
    return false;
  }

  inBuffered(t) {
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) if (t >= b.start(i) - 0.05 && t <= b.end(i) + 0.05) return true;
    return false;
  }

  /** Milliseconds from the frame on screen reaching the server to now, or null. */
  latencyMs() {
    const t = this.video.currentTime;
    let best = null;
    for (const [mt, arrived] of this.timing) {
      if (mt <= t) best = [mt, arrived];
      else break;
    }
    if (!best) return null;
    return Date.now() - (best[1] + (t - best[0]) * 1000);
  }

  stats() {
    const q = this.video.getVideoPlaybackQuality ? this.video.getVideoPlaybackQuality() : {};
    const end = this.liveEdge();
    return {
      mode: this.mode,
      status: this.status,
      currentTime: this.video.currentTime,
      bufferS: end === null ? 0 : end - this.video.currentTime,
      latencyMs: this.latencyMs(),
      targetLatencyS: this.targetLatency,
      stalls: this.stalls,
      jumps: this.jumps,
      rate: this.video.playbackRate,
      framesPainted: q.totalVideoFrames || 0,
      framesDropped: q.droppedVideoFrames || 0,
    };
  }
}
