import { api, h, me, when, renderHeader, listenForNotifications } from './app.js';
import { LivePlayer } from './player.js';
import { RoomClient } from './room.js';

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
  room = new RoomClient(c.slug, {
    welcome: (f) => showAudience(f.counters),
    counters: showAudience,
  });
  loadShows();
  loadModerators();
  loadWords();
}

let room = null;
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
    const text = b.dataset.copy === 'key' ? current.stream_key : current.rtmp_url;
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
