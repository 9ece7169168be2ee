// Replays: our own recordings (fMP4 segments on one continuous timeline) through Media Source
// Extensions, fetching a little ahead of the playhead and from wherever the viewer seeks.
// Native HLS where MSE is missing.

const MS = window.ManagedMediaSource || window.MediaSource;

function parsePlaylist(text, base) {
  const segs = [];
  let dur = null;
  let map = null;
  let t = 0;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line.startsWith('#EXT-X-MAP:')) map = new URL(/URI="([^"]+)"/.exec(line)[1], base).href;
    else if (line.startsWith('#EXTINF:')) dur = parseFloat(line.slice(8));
    else if (line && !line.startsWith('#') && dur !== null) {
      segs.push({ url: new URL(line, base).href, start: t, duration: dur, map });
      t += dur;
      dur = null;
    }
  }
  return { segs, duration: t, ended: text.includes('#EXT-X-ENDLIST') };
}

export class VodPlayer {
  /** @param masterUrl a multivariant playlist naming the media playlist and its CODECS */
  constructor(video, masterUrl) {
    this.video = video;
    this.masterUrl = new URL(masterUrl, location.href).href;
    this.next = 0;
    this.loading = false;
    this.maps = new Set();
  }

  async start() {
    const master = await (await fetch(this.masterUrl)).text();
    this.codecs = (/CODECS="([^"]+)"/.exec(master) || [])[1] || 'avc1.42E01E,mp4a.40.2';
    const uri = master.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
    this.url = new URL(uri, this.masterUrl).href;
    const supported = MS && MS.isTypeSupported(`video/mp4; codecs="${this.codecs}"`);
    if (!supported) {
      this.video.src = this.masterUrl;
      return;
    }
    const text = await (await fetch(this.url)).text();
    this.pl = parsePlaylist(text, this.url);
    const ms = new MS();
    this.video.disableRemotePlayback = true;
    this.video.src = URL.createObjectURL(ms);
    await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    if (this.pl.ended) ms.duration = this.pl.duration;
    this.sb = ms.addSourceBuffer(`video/mp4; codecs="${this.codecs}"`);
    this.ms = ms;
    this.video.addEventListener('seeking', () => this.seekTo(this.video.currentTime));
    setInterval(() => this.feed(), 300);
    this.feed();
  }

  append(data) {
    return new Promise((resolve, reject) => {
      this.sb.addEventListener('updateend', resolve, { once: true });
      this.sb.addEventListener('error', reject, { once: true });
      this.sb.appendBuffer(data);
    });
  }

  seekTo(t) {
    const i = this.pl.segs.findIndex((s) => t >= s.start && t < s.start + s.duration);
    if (i >= 0 && !this.isBuffered(t)) this.next = i;
  }

  isBuffered(t) {
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) if (t >= b.start(i) && t < b.end(i) - 0.1) return true;
    return false;
  }

  async feed() {
    if (this.loading || !this.sb || this.next >= this.pl.segs.length) return;
    const seg = this.pl.segs[this.next];
    if (seg.start > this.video.currentTime + 30) return; // enough buffered ahead
    this.loading = true;
    try {
      if (seg.map && !this.maps.has(seg.map)) {
        await this.append(new Uint8Array(await (await fetch(seg.map)).arrayBuffer()));
        this.maps.add(seg.map);
      }
      await this.append(new Uint8Array(await (await fetch(seg.url)).arrayBuffer()));
      this.next++;
      if (this.next >= this.pl.segs.length && this.pl.ended && this.ms.readyState === 'open') this.ms.endOfStream();
    } catch (e) {
      console.warn('replay segment failed', e);
    } finally {
      this.loading = false;
    }
  }
}
