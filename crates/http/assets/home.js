// Home: who is live (with how many watch), what is coming up, and replays, as cards with a
// cover. There are no thumbnails yet: a cover is the channel's initial on a colour of its own.
import { api, h, when, renderHeader, listenForNotifications } from './app.js';

function hue(text) {
  let x = 7;
  for (const ch of text) x = (x * 31 + ch.codePointAt(0)) % 3600;
  return x % 360;
}

function cover(show, kind) {
  const name = (show.channel_title || show.channel || '').trim();
  const initial = (Array.from(name)[0] || '•').toUpperCase();
  const tags =
    kind === 'live'
      ? [
          h('span', { class: 'badge live' }, 'Live'),
          typeof show.viewers === 'number'
            ? h('span', { class: 'pill viewers', title: `${show.viewers} watching now` }, `👁 ${show.viewers}`)
            : null,
        ]
      : kind === 'upcoming'
        ? [h('span', { class: 'badge' }, when(show.scheduled_at) || 'Soon')]
        : [h('span', { class: 'badge ended' }, 'Replay')];
  const el = h('div', { class: 'cover' },
    h('span', { class: 'initial', 'aria-hidden': 'true' }, initial),
    h('div', { class: 'tags' }, tags));
  el.style.setProperty('--hue', String(hue(show.channel || name)));
  return el;
}

function card(show, kind) {
  const href = (kind === 'replay' && show.replay_url) || show.watch_url;
  return h('a', { class: `card show-card ${kind}`, href, 'data-channel': show.channel, 'data-show': String(show.id) },
    cover(show, kind),
    h('div', { class: 'card-body' },
      h('div', { class: 'title' }, show.title),
      // A show started without a title carries the channel's: said once.
      show.channel_title && show.channel_title !== show.title ? h('div', { class: 'meta' }, show.channel_title) : null));
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
