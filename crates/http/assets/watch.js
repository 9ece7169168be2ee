import { api, h, me, renderHeader } from './app.js';
import { LivePlayer } from './player.js';
import { RoomClient } from './room.js';
import { whepPlay } from './webrtc.js';
import { updateShop } from './shop.js';

const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
window.__hawkerSlug = slug; // checkout attributes orders to this channel's show
const $ = (id) => document.getElementById(id);
const video = $('video');

// ---------------------------------------------------------------- video
const labels = {
  connecting: ['…', '', 'Connecting…'],
  live: ['Live', 'live', ''],
  reconnecting: ['Live', 'live', 'Reconnecting…'],
  offline: ['Offline', 'offline', 'This channel is not live right now.'],
  ended: ['Ended', 'ended', 'The show has ended. Thanks for watching!'],
  'tap-to-play': ['Live', 'live', 'Tap to play'],
  unsupported: ['—', 'offline', 'This browser cannot play live video.'],
};

function onStatus(s) {
  const [text, cls, msg] = labels[s] || [s, '', ''];
  $('badge').textContent = text;
  $('badge').className = `badge ${cls}`;
  $('center').textContent = msg;
  if (s === 'ended') {
    loadInfo();
    waitForNextShow();
  }
}

const proto = location.protocol === 'https:' ? 'wss' : 'ws';
const player = new LivePlayer(video, {
  feedUrl: `${proto}://${location.host}/live/${encodeURIComponent(slug)}/feed`,
  hlsUrl: `/live/${encodeURIComponent(slug)}/index.m3u8`,
  onStatus,
});
window.__hawkerPlayer = player; // tests and the curious read player.stats()

// A show published over WebRTC plays over WebRTC (WHEP, well under a second behind); when
// that cannot start or its connection fails, the LL-HLS player takes over by itself.
let whep = null;
let showEnded = false;
let gotPlaybackToken;
const playbackToken = new Promise((r) => {
  gotPlaybackToken = r;
});
async function startPlayback() {
  let c = null;
  try {
    c = await api(`/api/v1/channels/${encodeURIComponent(slug)}`);
  } catch {
    /* loadInfo reports it */
  }
  if (c && c.live) showEnded = false;
  if (c && c.webrtc && window.RTCPeerConnection) {
    try {
      // The room's playback token makes this player count as a viewer while media flows.
      const pt = await Promise.race([playbackToken, new Promise((r) => setTimeout(() => r(null), 3000))]);
      whep = await whepPlay(pt ? `${c.whep_url}?pt=${encodeURIComponent(pt)}` : c.whep_url, video);
      window.__hawkerWhep = whep;
      // The room may have said "ended" while the connection was being set up.
      if (showEnded) {
        stopWhep();
        onStatus('ended');
        return;
      }
      onStatus('live');
      const give_up = setTimeout(() => fallBack('no media'), 8000);
      whep.pc.addEventListener('connectionstatechange', () => {
        const st = whep && whep.pc.connectionState;
        if (st === 'connected') clearTimeout(give_up);
        if (st === 'failed' || st === 'closed') fallBack(st);
      });
      return;
    } catch (e) {
      window.__hawkerWhepError = e.message; // not playable over WebRTC now: LL-HLS
    }
  }
  startLlHls();
}

// Whether the LL-HLS player has taken over (it then follows the channel by itself).
let llhls = false;
function startLlHls() {
  llhls = true;
  player.start();
}

function stopWhep() {
  if (!whep) return false;
  const w = whep;
  whep = null;
  window.__hawkerWhep = null;
  w.stop();
  video.srcObject = null;
  return true;
}

function fallBack() {
  if (!stopWhep()) return;
  // A WebRTC show that ended is over, not failed: nothing to fall back to.
  if (showEnded) onStatus('ended');
  else startLlHls();
}

// The room says when a show ends; a WHEP viewer (whose player does not read playlists) hears
// it there, as an LL-HLS viewer hears it from ENDLIST.
function roomPhase(phase) {
  if (phase === 'live') showEnded = false;
  if (phase !== 'ended' || showEnded) return;
  showEnded = true;
  if (stopWhep()) onStatus('ended');
}
startPlayback();

video.addEventListener('playing', () => {
  $('center').textContent = '';
  $('unmute').hidden = !video.muted;
});
$('unmute').addEventListener('click', () => {
  video.muted = false;
  $('unmute').hidden = true;
  video.play();
});
$('center').addEventListener('click', () => video.play());

setInterval(() => {
  const ms = player.latencyMs && player.latencyMs();
  $('latency').textContent = ms !== null && ms !== undefined && player.status === 'live' ? `${(ms / 1000).toFixed(1)} s behind` : '';
}, 1000);

// After a show ends the page keeps an eye on the channel and plays its next show.
let waiting = null;
function waitForNextShow() {
  if (waiting) return;
  waiting = setInterval(async () => {
    try {
      const c = await api(`/api/v1/channels/${encodeURIComponent(slug)}`);
      if (c.live) {
        clearInterval(waiting);
        waiting = null;
        // The LL-HLS player picks up where it ended; a page that played over WHEP starts over.
        if (llhls) player.restart();
        else startPlayback();
      }
    } catch {
      /* try again */
    }
  }, 10000);
}

async function loadInfo() {
  try {
    const c = await api(`/api/v1/channels/${encodeURIComponent(slug)}`);
    document.title = `${c.title} — Hawker`;
    if (!$('title').textContent) $('title').textContent = c.current_show ? c.current_show.title : c.title;
    $('channel').textContent = `${c.title} · ${c.owner}`;
    $('virtual-host').hidden = !c.virtual_host;
    $('virtual-host').textContent = c.host_label || '';
  } catch (e) {
    $('title').textContent = e.status === 404 ? 'No such channel' : e.message;
  }
}

// ---------------------------------------------------------------- room
let myPermissions = null;
let myAccount = null;
const shown = new Map(); // comment id → element

function commentEl(c, seq) {
  const badges = (c.author.badges || []).map((b) => h('span', { class: `chip ${b}` }, b.replace('_', ' ')));
  const li = h('li', { 'data-id': c.id, 'data-seq': seq ?? '', 'data-account': c.author.account ?? '' },
    h('span', { class: 'who' }, c.author.name), ...badges, ' ', h('span', { class: 'text' }, c.text));
  if (myPermissions && c.author.account && c.author.account !== myAccount) {
    li.classList.add('moderatable');
    li.addEventListener('click', () => openModMenu(c));
  }
  return li;
}

function addComment(c, seq) {
  if (shown.has(c.id)) return;
  const list = $('comments');
  const el = commentEl(c, seq);
  shown.set(c.id, el);
  list.append(el);
  while (list.children.length > 200) {
    const first = list.firstElementChild;
    shown.delete(Number(first.dataset.id));
    first.remove();
  }
  list.scrollTop = list.scrollHeight;
  if (!$('danmaku').hidden) fly(c.text);
}

function addNote(text, cls = 'note') {
  const list = $('comments');
  list.append(h('li', { class: cls }, text));
  list.scrollTop = list.scrollHeight;
}

function fly(text) {
  const lane = Math.floor(Math.random() * 6);
  const el = h('div', { class: 'fly', style: `top:${8 + lane * 12}%` }, text);
  $('danmaku').append(el);
  setTimeout(() => el.remove(), 8000);
}

function heart() {
  const el = h('div', { class: 'heart', style: `right:${10 + Math.random() * 40}px` }, '♥');
  $('hearts').append(el);
  setTimeout(() => el.remove(), 1800);
}

function applyItem(i) {
  if (i.k === 'comment') addComment(i, i.seq);
  else if (i.k === 'deleted') {
    const el = shown.get(i.id);
    if (el) el.replaceWith(h('li', { class: 'note' }, `A comment was removed (${i.reason.replace('_', ' ')}).`));
    shown.delete(i.id);
  } else if (i.k === 'announcement') addNote(`📣 ${i.by}: ${i.text}`, 'announce');
  else if (i.k === 'event') addNote(`🎁 ${i.by} ${i.detail}`, 'event');
}

function applyState(s) {
  roomPhase(s.phase);
  if (s.title) $('title').textContent = s.title;
  $('hosts').textContent = s.hosts.length
    ? `Hosted by ${s.hosts.map((x) => `${x.name}${x.virtual_host ? ' · Virtual host (AI)' : ''}`).join(' & ')}`
    : '';
  $('announcement').hidden = !s.announcement;
  $('announcement').textContent = s.announcement ? `📣 ${s.announcement}` : '';
  $('chat-status').textContent = s.slow_mode_s ? `slow mode: ${s.slow_mode_s} s` : '';
  updateShop(s);
}

function applyCounters(c) {
  $('viewers').textContent = `👁 ${c.viewers}`;
  $('viewers').title = `${c.viewers} watching now · peak ${c.peak_viewers} · ${c.unique_viewers} different viewers`;
  $('likes').textContent = c.likes;
}

function toast(text, href) {
  const t = h('a', { class: 'toast', href }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 8000);
}

const room = new RoomClient(slug, {
  welcome(f) {
    player.setPlaybackToken(f.playback_token);
    gotPlaybackToken(f.playback_token);
    myPermissions = f.permissions;
    myAccount = f.you.account;
    if (!f.resumed) {
      $('comments').replaceChildren();
      shown.clear();
    }
    if (f.skipped) addNote(`${f.skipped} messages were missed while you were away.`);
    for (const i of f.history) applyItem(i);
    applyState(f.state);
    applyCounters(f.counters);
    const input = $('say-text');
    input.disabled = !f.can_comment;
    $('say-send').disabled = !f.can_comment;
    input.placeholder = f.can_comment ? 'Say something…' : 'Log in to chat';
  },
  batch(f) {
    for (const i of f.items) applyItem(i);
  },
  echo(f) {
    applyItem(f.item);
  },
  state(f) {
    applyState(f.state);
  },
  counters: applyCounters,
  notify(f) {
    if (f.channel !== slug) toast(`🔴 ${f.title} is live now`, `/c/${f.channel}`);
  },
  error(f) {
    $('say-error').textContent = f.message;
    setTimeout(() => ($('say-error').textContent = ''), 5000);
  },
  status(s) {
    if (s === 'banned') {
      $('say-text').disabled = true;
      $('say-text').placeholder = 'You are banned from this room.';
    }
  },
});
window.__hawkerRoom = room;

$('say').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('say-text').value.trim();
  if (!text) return;
  if (room.send({ t: 'comment', text })) $('say-text').value = '';
});
$('say-text').addEventListener('focus', async () => {
  if ($('say-text').disabled && !(await me())) location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
});
$('like').addEventListener('click', () => {
  if (room.send({ t: 'like', n: 1 })) heart();
});
$('danmaku-toggle').addEventListener('change', (e) => {
  $('danmaku').hidden = !e.target.checked;
});

// Only sessions whose player really plays count as viewers.
setInterval(() => {
  room.send({ t: 'heartbeat', playing: !video.paused && video.readyState >= 2, position: video.currentTime || 0 });
}, 5000);

let modTarget = null;
function openModMenu(c) {
  modTarget = c;
  $('modmenu-who').textContent = `${c.author.name}: “${c.text}”`;
  $('modmenu').showModal();
}
$('modmenu').addEventListener('close', () => {
  const action = $('modmenu').returnValue;
  const reason = $('modmenu-reason').value;
  if (!modTarget) return;
  if (action === 'delete') room.send({ t: 'delete', id: modTarget.id, reason });
  if (action === 'mute') room.send({ t: 'mute', account: modTarget.author.account, seconds: 300, reason });
  if (action === 'ban') room.send({ t: 'ban', account: modTarget.author.account, reason });
  modTarget = null;
});

// ---------------------------------------------------------------- follow
async function loadFollow() {
  try {
    const f = await api(`/api/v1/channels/${encodeURIComponent(slug)}/follow`);
    renderFollow(f);
  } catch {
    /* no channel: loadInfo says so */
  }
}
function renderFollow(f) {
  const b = $('follow');
  b.textContent = f.following ? `Following · ${f.followers}` : `Follow · ${f.followers}`;
  b.dataset.following = f.following ? '1' : '';
}
$('follow').addEventListener('click', async () => {
  if (!(await me())) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    return;
  }
  const following = $('follow').dataset.following === '1';
  const f = await api(`/api/v1/channels/${encodeURIComponent(slug)}/follow`, { method: following ? 'DELETE' : 'PUT' });
  renderFollow(f);
});

renderHeader();
loadInfo();
loadFollow();

// ---------------------------------------------------------------- gifts
// The platform decides who may gift (no minors, verified age where the law wants it); the
// page shows its answer.
(async () => {
  let kinds;
  try {
    kinds = (await api('/api/v1/gift-kinds')).kinds || [];
  } catch {
    return;
  }
  const box = $('gifts');
  for (const k of kinds.slice(0, 4)) {
    const b = h('button', { type: 'button', class: 'secondary gift', 'data-gift': String(k.id) }, `${k.name} · ${k.coins}🪙`);
    b.addEventListener('click', async () => {
      const msg = $('gift-msg');
      msg.className = 'meta';
      try {
        const r = await api(`/api/v1/channels/${encodeURIComponent(slug)}/gifts`, { method: 'POST', body: { kind: k.id } });
        msg.textContent = `Sent ${k.name}. ${r.wallet_coins} coins left.`;
      } catch (e) {
        msg.className = 'error';
        msg.dataset.code = e.problem?.code || '';
        msg.textContent = e.problem?.detail || e.message;
      }
    });
    box.append(b);
  }
})();
