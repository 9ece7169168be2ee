import { api, when, renderHeader, listenForNotifications } from './app.js';
import { VodPlayer } from './vod.js';

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
  const player = new VodPlayer(document.getElementById('video'), `/vod/${show.id}/master.m3u8`);
  window.__hawkerReplay = player;
  await player.start();
} catch (e) {
  document.getElementById('title').textContent = e.status === 404 ? 'No such replay' : e.message;
}
