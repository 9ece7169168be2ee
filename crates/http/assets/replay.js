import { api, h, when, renderHeader, listenForNotifications } from './app.js';
import { VodPlayer } from './vod.js';
import { openCheckout } from './shop.js';

const id = location.pathname.split('/')[2];
renderHeader();
listenForNotifications();
try {
  const show = await api(`/api/v1/shows/${encodeURIComponent(id)}`);
  document.title = `${show.title} — Hawker replay`;
  document.getElementById('title').textContent = show.title;
  document.getElementById('meta').textContent = `${show.channel_title} · ${when(show.started_at)}`;
  const a = document.getElementById('channel');
  a.href = show.watch_url;
  a.textContent = `Go to ${show.channel_title}`;
  const video = document.getElementById('video');
  const player = new VodPlayer(video, `/vod/${show.id}/master.m3u8`);
  window.__hawkerReplay = player;
  // Orders placed here are the show's (at today's price and stock).
  window.__hawkerReplayOf = show.id;
  shoppable(video, await api(`/api/v1/shows/${show.id}/pins`));
  await player.start();
} catch (e) {
  document.getElementById('title').textContent = e.status === 404 ? 'No such replay' : e.message;
}

function clock(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}

/**
 * The shoppable replay: every pinned product on a timeline (a tap seeks to its moment), and
 * the one pinned at the playback position on the video, with Buy, as viewers saw it live.
 */
function shoppable(video, pins) {
  if (!pins.length) return;
  document.getElementById('shelf').hidden = false;
  const list = document.getElementById('timeline');
  list.replaceChildren(...pins.map((p) => h('li', {},
    h('button', { type: 'button', class: 'link', onclick: () => { video.currentTime = p.offset_ms / 1000; video.play(); } },
      `${clock(p.offset_ms)} · ${p.product.title}`),
    ` ${p.product.skus[0] ? p.product.skus[0].price : ''}`)));
  const card = document.getElementById('replay-pinned');
  let shown = null;
  const update = () => {
    const ms = video.currentTime * 1000;
    // The latest pin whose moment has come and that was still up.
    const now = pins.filter((p) => p.offset_ms <= ms && (p.until_offset_ms === null || ms < p.until_offset_ms)).pop();
    if (now === shown) return;
    shown = now;
    card.hidden = !now;
    if (!now) return;
    const p = now.product;
    card.replaceChildren(...[
      p.images[0] ? h('img', { class: 'pin-img', src: p.images[0], alt: '' }) : null,
      h('div', { class: 'pin-text' },
        h('strong', {}, p.title),
        h('div', { class: 'pin-seller meta' }, `${p.skus[0] ? p.skus[0].price : ''} · Sold by ${p.seller.name}`),
        p.sponsored ? h('span', { class: 'chip ad' }, 'Ad · paid partnership') : null),
      h('button', { id: 'buy-replay', type: 'button', onclick: () => openCheckout(p.id) }, 'Buy'),
    ].filter(Boolean));
  };
  video.addEventListener('timeupdate', update);
  video.addEventListener('seeked', update);
  window.__hawkerReplayPins = pins;
}
