// The live room's client: one WebSocket, resumed without gaps after a disconnect
// (`since=EPOCH:SEQ`), frames handed to the page by type. Protocol: hawker-room, version 1.

function anonId() {
  try {
    let id = localStorage.getItem('hawker-anon');
    if (!id) {
      id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
      localStorage.setItem('hawker-anon', id);
    }
    return id;
  } catch {
    return null;
  }
}

export class RoomClient {
  /** @param {string} slug  @param {Record<string, Function>} on  handlers by frame type, plus `status` */
  constructor(slug, on) {
    this.slug = slug;
    this.on = on;
    this.epoch = null;
    this.seq = 0;
    this.backoff = 500;
    this.closedByServer = null;
    this.connect();
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const q = new URLSearchParams();
    if (this.epoch) q.set('since', `${this.epoch}:${this.seq}`);
    const anon = anonId();
    if (anon) q.set('anon', anon);
    return `${proto}://${location.host}/live/${encodeURIComponent(this.slug)}/room?${q}`;
  }

  connect() {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => this.emit('status', 'connected');
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.t === 'welcome') {
        this.epoch = f.epoch;
        this.seq = f.seq;
        this.backoff = 500;
      } else if (f.t === 'batch') {
        for (const i of f.items) this.seq = Math.max(this.seq, i.seq);
      }
      this.emit(f.t, f);
    };
    ws.onclose = (ev) => {
      // 4003 banned: stay away. Anything else: come back, resuming where we were.
      if (ev.code === 4003) {
        this.emit('status', 'banned');
        return;
      }
      this.emit('status', 'reconnecting');
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  emit(type, payload) {
    const h = this.on[type];
    if (h) h(payload);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }
}
