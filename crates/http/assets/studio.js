import { api, h, me, when, renderHeader, listenForNotifications } from './app.js';
import { LivePlayer } from './player.js';
import { RoomClient } from './room.js';
import { whipPublish, joinCall } from './webrtc.js';

renderHeader();
listenForNotifications();
const $ = (id) => document.getElementById(id);
let channels = [];
let current = null;
let player = null;
let keyShown = false;

async function load() {
  const account = await me();
  if (!account) {
    $('gate').hidden = false;
    $('gate').replaceChildren(h('p', {}, 'Log in to open your studio. ', h('a', { href: '/login?next=/studio' }, 'Log in')));
    return;
  }
  $('app').hidden = false;
  channels = await api('/api/v1/me/channels');
  const pick = $('pick');
  pick.replaceChildren(...channels.map((c) => h('option', { value: c.slug }, `${c.title} (${c.slug})`)));
  if (channels.length === 0) {
    pick.replaceChildren(h('option', {}, 'No channel yet: create one below'));
    return;
  }
  const wanted = new URLSearchParams(location.search).get('channel');
  select(channels.find((c) => c.slug === wanted) || channels[0]);
}

function select(c) {
  current = c;
  $('pick').value = c.slug;
  $('rtmp').textContent = c.rtmp_url;
  $('whip').textContent = c.whip_url;
  keyShown = false;
  $('key').textContent = '••••••••';
  $('reveal').textContent = 'Show';
  $('watch').href = c.watch_url;
  $('watch').textContent = c.watch_url;
  $('hls').textContent = c.hls_url;
  if (player) player.stop();
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  player = new LivePlayer($('preview'), {
    feedUrl: `${proto}://${location.host}/live/${c.slug}/feed`,
    hlsUrl: `/live/${c.slug}/index.m3u8`,
    onStatus: (s) => {
      const live = s === 'live';
      $('badge').textContent = live ? 'Live' : s === 'ended' ? 'Ended' : 'Offline';
      $('badge').className = `badge ${live ? 'live' : 'offline'}`;
      $('center').hidden = live;
    },
  });
  player.start();
  if (room && room.ws) {
    room.ws.onclose = null; // switching channels: do not reconnect the old room
    room.ws.close();
  }
  $('chat').replaceChildren();
  room = new RoomClient(c.slug, {
    welcome: (f) => showAudience(f.counters),
    counters: showAudience,
    batch: (f) => f.items.filter((i) => i.k === 'comment').forEach(showComment),
  });
  loadShows();
  loadModerators();
  loadWords();
}

let room = null;
function showComment(c) {
  const list = $('chat');
  list.append(h('li', {}, h('strong', {}, c.author.name), ' ', c.text));
  while (list.children.length > 100) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function showAudience(c) {
  const rows = [];
  const add = (k, v) => rows.push(h('span', { class: 'k' }, k), h('span', {}, String(v)));
  add('Watching now', c.viewers);
  add('Peak', c.peak_viewers);
  add('Different viewers', c.unique_viewers);
  add('Likes', c.likes);
  $('audience').replaceChildren(...rows);
}

async function loadModerators() {
  try {
    const mods = await api(`/api/v1/channels/${current.slug}/moderators`);
    $('mods').replaceChildren(
      ...mods.map((m) =>
        h('li', {}, `${m.display_name}: ${Object.entries(m.rights).filter(([, v]) => v).map(([k]) => k).join(', ') || 'no rights'} `,
          h('button', { class: 'link', onclick: async () => {
            await api(`/api/v1/channels/${current.slug}/moderators/${m.account}`, { method: 'DELETE' });
            loadModerators();
          } }, 'remove')),
      ),
    );
  } catch {
    $('mods').replaceChildren();
  }
}

let savedWords = [];
async function loadWords() {
  try {
    savedWords = await api(`/api/v1/channels/${current.slug}/keywords`);
    $('words-text').value = savedWords.join('\n');
  } catch {
    savedWords = [];
  }
}

async function loadShows() {
  const shows = await api(`/api/v1/channels/${current.slug}/shows`);
  $('shows').replaceChildren(
    ...shows.slice(0, 10).map((s) =>
      h('li', {}, `${s.title} — ${s.state} ${when(s.scheduled_at || s.started_at)} `, s.replay_url ? h('a', { href: s.replay_url }, 'replay') : ''),
    ),
  );
}

async function pollIngest() {
  if (!current) return;
  try {
    const r = await api(`/api/v1/channels/${current.slug}/ingest`);
    const rows = [];
    const add = (k, v) => rows.push(h('span', { class: 'k' }, k), h('span', {}, v));
    if (!r.status) {
      add('Status', 'Not receiving');
    } else {
      const st = r.stats;
      add('Status', r.status.publishing ? 'Receiving' : 'Encoder disconnected (show kept open)');
      add('Video', st.video_codec ? `${st.video_codec} ${st.width}×${st.height}` : '—');
      add('Audio', st.audio_codec ? `${st.audio_codec} ${st.audio_sample_rate} Hz` : '—');
      add('Bitrate', `${Math.round(st.bitrate_kbps)} kbit/s`);
      add('Frame rate', `${st.fps.toFixed(1)} fps`);
      add('Keyframe interval', st.keyframe_interval_s ? `${st.keyframe_interval_s.toFixed(1)} s` : '—');
      add('Up for', `${Math.floor(r.status.uptime_s / 60)} min`);
    }
    const lat = player && player.latencyMs();
    if (lat !== null && lat !== undefined) add('Preview delay', `${(lat / 1000).toFixed(2)} s`);
    $('ingest').replaceChildren(...rows);
    $('warnings').replaceChildren(...((r.stats && r.stats.warnings) || []).map((w) => h('li', {}, w)));
  } catch {
    /* keep the last figures */
  }
}

$('pick').addEventListener('change', (e) => select(channels.find((c) => c.slug === e.target.value)));
$('reveal').addEventListener('click', () => {
  keyShown = !keyShown;
  $('key').textContent = keyShown ? current.stream_key : '••••••••';
  $('reveal').textContent = keyShown ? 'Hide' : 'Show';
});
for (const b of document.querySelectorAll('[data-copy]')) {
  b.addEventListener('click', () => {
    const text = { key: current.stream_key, whip: current.whip_url }[b.dataset.copy] || current.rtmp_url;
    navigator.clipboard.writeText(text).then(() => {
      b.textContent = 'Copied';
      setTimeout(() => (b.textContent = 'Copy'), 1500);
    });
  });
}
$('rotate').addEventListener('click', async () => {
  if (!confirm('Make a new stream key? Encoders using the old key cannot start again until updated.')) return;
  const r = await api(`/api/v1/channels/${current.slug}/stream-key/rotate`, { method: 'POST' });
  Object.assign(current, r);
  select(current);
});
$('create').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await api('/api/v1/channels', { method: 'POST', body: { slug: f.get('slug'), title: f.get('title') } });
    location.href = `/studio?channel=${encodeURIComponent(f.get('slug'))}`;
  } catch (err) {
    $('create-error').textContent = err.message;
  }
});
$('schedule').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await api(`/api/v1/channels/${current.slug}/shows`, {
      method: 'POST',
      body: { title: f.get('title'), scheduled_at: new Date(f.get('at')).getTime() },
    });
    e.target.reset();
    $('schedule-error').textContent = '';
    loadShows();
  } catch (err) {
    $('schedule-error').textContent = err.message;
  }
});

$('add-mod').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const rights = Object.fromEntries(['pin', 'mute', 'ban', 'delete', 'announce'].map((k) => [k, f.get(k) === 'on']));
  try {
    await api(`/api/v1/channels/${current.slug}/moderators`, { method: 'POST', body: { email: f.get('email'), rights } });
    $('mod-error').textContent = '';
    e.target.reset();
    loadModerators();
  } catch (err) {
    $('mod-error').textContent = err.message;
  }
});
$('words').addEventListener('submit', async (e) => {
  e.preventDefault();
  const words = $('words-text').value.split('\n').map((w) => w.trim()).filter(Boolean);
  const gone = savedWords.filter((w) => !words.includes(w));
  const fresh = words.filter((w) => !savedWords.includes(w));
  if (gone.length) await api(`/api/v1/channels/${current.slug}/keywords`, { method: 'DELETE', body: { words: gone } });
  if (fresh.length) await api(`/api/v1/channels/${current.slug}/keywords`, { method: 'POST', body: { words: fresh } });
  $('words-status').textContent = `Saved: ${words.length} words.`;
  loadWords();
});

load();
setInterval(pollIngest, 2000);

// ---------------------------------------------------------------- trust: verification, course, re-check
async function trustPanel() {
  const account = await me();
  if (!account) return;
  let t;
  try {
    t = await api('/api/v1/me/trust');
  } catch {
    return;
  }
  const st = t.status;
  $('trust').hidden = false;
  $('trust-status').dataset.blockedBy = st.blocked_by || '';
  $('trust-status').textContent = st.blocked_by
    ? `You cannot go live yet: ${st.blocked_reason}.`
    : 'You may go live: verified, trained, in good standing.';
  const needsId = st.verification === 'none' || st.verification === 'rejected';
  $('identity').hidden = !needsId;
  if (st.verification === 'rejected' && st.rejection_reason) {
    $('id-error').textContent = `Your last submission was rejected: ${st.rejection_reason}`;
  }
  $('course').hidden = !(st.verification === 'approved' && !st.training_passed);
  $('recheck').hidden = !(st.verification === 'approved' && st.recheck_required && !st.recheck_fresh);
  if (!$('course').hidden && !$('quiz').children.length) {
    const c = await api('/api/v1/training');
    $('lessons').replaceChildren(...c.lessons.map((l) => h('details', {}, h('summary', {}, l.title), h('p', {}, l.text))));
    $('quiz').replaceChildren(...c.quiz.map((q, i) => h('li', {}, h('p', {}, q.text),
      ...q.options.map((o, j) => h('label', { class: 'option' }, h('input', { type: 'radio', name: `q${i}`, value: String(j) }), ` ${o}`)))));
  }
}

$('identity').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('id-error').textContent = '';
  try {
    let document;
    const f = $('id-doc').files[0];
    if (f) {
      const res = await fetch('/api/v1/me/identity/document', { method: 'POST', headers: { 'content-type': f.type }, body: f, credentials: 'same-origin' });
      const body = await res.json();
      if (!res.ok) throw new Error(body.detail || body.title);
      document = body.document;
    }
    await api('/api/v1/me/identity', { method: 'POST', body: {
      legal_name: $('id-name').value, id_number: $('id-number').value, birth_date: $('id-born').value,
      phone: $('id-phone').value || undefined, document, document_type: document ? 'national_id' : undefined,
      guardian_consent: $('id-consent').checked, guardian_name: $('id-guardian').value || undefined,
    } });
    $('id-number').value = '';
    await trustPanel();
  } catch (e) {
    $('id-error').textContent = e.message;
  }
});

$('course').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const n = $('quiz').children.length;
  const answers = [];
  for (let i = 0; i < n; i++) {
    const c = document.querySelector(`input[name=q${i}]:checked`);
    answers.push(c ? Number(c.value) : 99);
  }
  const g = await api('/api/v1/me/training', { method: 'POST', body: { answers } });
  $('quiz-result').textContent = g.passed ? 'Passed.' : `${g.correct} of ${g.total} right; read the lessons and try again.`;
  await trustPanel();
});

$('recheck').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    await api('/api/v1/me/broadcast-check', { method: 'POST', body: { id_number: $('recheck-number').value } });
    $('recheck-number').value = '';
    await trustPanel();
  } catch (e) {
    $('recheck-result').textContent = e.message;
  }
});

trustPanel();

// ---- Going live from this browser (WHIP): camera and microphone, checks, go live, end. ----
let camera = null; // the local MediaStream
let live = null; // the WHIP session
let sentBefore = null; // { bytes, frames, at } of the last stats sample

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (sel, kind) => {
    const list = devices.filter((d) => d.kind === kind);
    $(sel).replaceChildren(...list.map((d, i) => h('option', { value: d.deviceId }, d.label || `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}`)));
  };
  fill('cam', 'videoinput');
  fill('mic', 'audioinput');
}

async function cameraOn() {
  $('live-error').textContent = '';
  if (camera) camera.getTracks().forEach((t) => t.stop());
  const cam = $('cam').value;
  const mic = $('mic').value;
  try {
    camera = await navigator.mediaDevices.getUserMedia({
      video: { deviceId: cam ? { exact: cam } : undefined, width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: { deviceId: mic ? { exact: mic } : undefined },
    });
  } catch (e) {
    $('live-error').textContent = `The camera or microphone cannot be used: ${e.message}`;
    return;
  }
  $('camera').srcObject = camera;
  await listDevices();
  $('go-live').disabled = !current;
  showChecks();
}

function showChecks(stats) {
  const rows = [];
  const add = (k, v) => rows.push(h('span', { class: 'k' }, k), h('span', {}, v));
  const v = camera && camera.getVideoTracks()[0];
  const settings = v ? v.getSettings() : {};
  add('Camera', v ? `${settings.width || '?'}×${settings.height || '?'} at ${Math.round(settings.frameRate || 0)} fps` : 'Off');
  add('Microphone', camera && camera.getAudioTracks().length ? 'On' : 'Off');
  if (stats) {
    add('Sending', `${stats.kbps} kbit/s, ${stats.fps} fps`);
    add('Connection', stats.state);
  }
  $('checks').replaceChildren(...rows);
}

async function goLive() {
  if (!current || !camera) return;
  $('live-error').textContent = '';
  $('go-live').disabled = true;
  try {
    live = await whipPublish(current.whip_url, current.stream_key, composite());
  } catch (e) {
    $('live-error').textContent = `Could not go live: ${e.message}`;
    $('go-live').disabled = false;
    return;
  }
  $('go-live').hidden = true;
  $('stop-live').hidden = false;
  sentBefore = null;
}

async function endLive() {
  if (live) await live.stop();
  live = null;
  $('go-live').hidden = false;
  $('go-live').disabled = !camera;
  $('stop-live').hidden = true;
  showChecks();
}

/** Bitrate and frame rate actually sent, from the sender's statistics. */
async function sampleSending() {
  if (!live) return;
  let bytes = 0;
  let frames = 0;
  (await live.pc.getStats()).forEach((r) => {
    if (r.type === 'outbound-rtp') {
      bytes += r.bytesSent || 0;
      if (r.kind === 'video') frames += r.framesSent || r.framesEncoded || 0;
    }
  });
  const now = performance.now();
  let stats = { kbps: 0, fps: 0, state: live.pc.connectionState };
  if (sentBefore) {
    const s = (now - sentBefore.at) / 1000;
    stats = { ...stats, kbps: Math.round(((bytes - sentBefore.bytes) * 8) / 1000 / s), fps: Math.round((frames - sentBefore.frames) / s) };
  }
  sentBefore = { bytes, frames, at: now };
  showChecks(stats);
}

if (navigator.mediaDevices && window.RTCPeerConnection) {
  $('camera-on').addEventListener('click', cameraOn);
  $('go-live').addEventListener('click', goLive);
  $('stop-live').addEventListener('click', endLive);
  setInterval(sampleSending, 1000);
} else {
  $('browser-live').hidden = true; // no camera API (plain HTTP on a phone): the encoder panel stays
}

// ---- What goes out: one picture (the host, and the co-host beside them once they joined)
// and one sound (both voices), composed here, so every output carries both. ----
let mix = null;

function fit(g, v, x, y, w, h) {
  if (!v.videoWidth) return;
  const s = Math.max(w / v.videoWidth, h / v.videoHeight);
  const sw = w / s;
  const sh = h / s;
  g.drawImage(v, (v.videoWidth - sw) / 2, (v.videoHeight - sh) / 2, sw, sh, x, y, w, h);
}

function composite() {
  if (mix) return mix.stream;
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  const g = canvas.getContext('2d');
  const host = $('camera');
  const guest = $('guest');
  const draw = () => {
    g.fillStyle = '#000';
    g.fillRect(0, 0, canvas.width, canvas.height);
    if (guest.srcObject && guest.videoWidth > 0) {
      fit(g, host, 0, 0, 640, 720);
      fit(g, guest, 640, 0, 640, 720);
    } else {
      fit(g, host, 0, 0, 1280, 720);
    }
  };
  const ctx = new AudioContext();
  const dest = ctx.createMediaStreamDestination();
  if (camera && camera.getAudioTracks().length) ctx.createMediaStreamSource(camera).connect(dest);
  mix = {
    stream: new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...dest.stream.getAudioTracks()]),
    ctx,
    dest,
    timer: setInterval(draw, 1000 / 30),
    guestAudio: null,
  };
  window.__hawkerComposite = canvas; // tests look at what goes out
  return mix.stream;
}

function mixGuestAudio(stream) {
  if (!mix || mix.guestAudio || stream.getAudioTracks().length === 0) return;
  mix.guestAudio = mix.ctx.createMediaStreamSource(stream);
  mix.guestAudio.connect(mix.dest);
}

// ---- Co-hosting: invite, the call with the guest, drop. ----
let invite = null;
let call = null;

async function inviteCoHost() {
  $('co-host-error').textContent = '';
  try {
    invite = await api(`/api/v1/channels/${current.slug}/co-host`, { method: 'POST' });
  } catch (e) {
    $('co-host-error').textContent = e.problem?.detail || e.message;
    return;
  }
  showInvite();
}

function showInvite() {
  $('co-host-link-row').hidden = !invite;
  $('co-host-link').textContent = invite ? invite.join_url : '';
  $('co-host-drop').hidden = !invite;
  const rows = [h('span', { class: 'k' }, 'Guest')];
  if (!invite) rows.push(h('span', {}, 'None'));
  else if (!invite.guest) rows.push(h('span', {}, 'Invited, not joined yet'));
  else rows.push(h('span', {}, `${invite.guest.display_name} ${invite.guest_connected ? '(in the call)' : '(joining…)'}`));
  $('co-host-status').replaceChildren(...rows);
}

async function pollCoHost() {
  if (!current || !invite) return;
  try {
    invite = await api(`/api/v1/channels/${current.slug}/co-host`);
  } catch {
    invite = null;
  }
  showInvite();
  if (invite && invite.guest && camera && !call) {
    try {
      call = await joinCall(invite.call_url, camera, $('guest'));
      $('guest-stage').hidden = false;
      $('guest').addEventListener('loadedmetadata', () => mixGuestAudio($('guest').srcObject), { once: true });
    } catch (e) {
      $('co-host-error').textContent = `The call could not start: ${e.message}`;
    }
  }
  if (!invite && call) endCall();
}

function endCall() {
  if (call) call.stop();
  call = null;
  $('guest').srcObject = null;
  $('guest-stage').hidden = true;
  if (mix && mix.guestAudio) {
    mix.guestAudio.disconnect();
    mix.guestAudio = null;
  }
}

async function dropCoHost() {
  await api(`/api/v1/channels/${current.slug}/co-host`, { method: 'DELETE' }).catch(() => {});
  invite = null;
  endCall();
  showInvite();
}

if (window.RTCPeerConnection) {
  $('co-host-invite').addEventListener('click', inviteCoHost);
  $('co-host-drop').addEventListener('click', dropCoHost);
  setInterval(pollCoHost, 1500);
} else {
  $('co-host').hidden = true;
}
