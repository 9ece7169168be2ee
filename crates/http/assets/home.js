import { api, h, when, renderHeader, listenForNotifications } from './app.js';

function card(show, kind) {
  const href = kind === 'replay' ? show.replay_url : show.watch_url;
  const badge =
    kind === 'live' ? h('span', { class: 'badge live' }, 'Live') :
    kind === 'upcoming' ? h('span', { class: 'badge' }, when(show.scheduled_at)) :
    h('span', { class: 'badge ended' }, 'Replay');
  return h('a', { class: 'card', href: href || show.watch_url, 'data-channel': show.channel },
    h('div', { class: 'row' }, badge, h('span', { class: 'title' }, show.title)),
    h('div', { class: 'meta' }, show.channel_title),
  );
}

async function fill(id, state, kind, emptyText) {
  const el = document.getElementById(id);
  try {
    const shows = await api(`/api/v1/shows?state=${state}&limit=24`);
    const list = kind === 'replay' ? shows.filter((s) => s.replay_url) : shows;
    el.replaceChildren(...(list.length ? list.map((s) => card(s, kind)) : [h('p', { class: 'empty' }, emptyText)]));
  } catch (e) {
    el.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

function refresh() {
  fill('live', 'live', 'live', 'Nobody is live right now.');
  fill('upcoming', 'scheduled', 'upcoming', 'Nothing scheduled.');
  fill('replays', 'ended', 'replay', 'No replays yet.');
}

renderHeader();
listenForNotifications();
refresh();
setInterval(refresh, 15000);
