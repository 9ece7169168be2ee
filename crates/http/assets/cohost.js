// The guest's side of co-hosting: accept the invite (the go-live rules apply), turn the
// camera on, join the call with the host. The host's studio puts both on air.
import { api, h, me, renderHeader } from './app.js';
import { joinCall } from './webrtc.js';

renderHeader();
const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split('/')[3] || '');
let call = null;
let camera = null;

async function load() {
  if (!(await me())) {
    $('gate').hidden = false;
    $('gate').replaceChildren(h('p', {}, 'Log in to co-host. ', h('a', { href: `/login?next=${encodeURIComponent(location.pathname)}` }, 'Log in')));
    return;
  }
  $('app').hidden = false;
  $('intro').textContent = 'You were invited to co-host a live show. Your camera and microphone go on air once you join.';
}

async function join() {
  $('error').textContent = '';
  let accepted;
  try {
    accepted = await api(`/api/v1/co-host-invites/${encodeURIComponent(token)}/accept`, { method: 'POST' });
  } catch (e) {
    $('error').textContent = e.problem?.detail || e.message;
    return;
  }
  $('intro').textContent = `Co-hosting ${accepted.channel} with ${accepted.host}.`;
  followShow(accepted.channel);
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: true });
  } catch (e) {
    $('error').textContent = `The camera or microphone cannot be used: ${e.message}`;
    return;
  }
  $('me').srcObject = camera;
  try {
    call = await joinCall(accepted.call_url, camera, $('host'));
  } catch (e) {
    $('error').textContent = `Could not join: ${e.message}`;
    return;
  }
  window.__hawkerCall = call;
  $('join').hidden = true;
  $('leave').hidden = false;
  $('state').textContent = 'Connecting…';
  call.pc.addEventListener('connectionstatechange', () => {
    const s = call && call.pc.connectionState;
    if (s === 'connected') $('state').textContent = 'On air with the host.';
    if (s === 'failed' || s === 'disconnected') $('state').textContent = 'The call ended.';
  });
}

// The live show's shelf, kept fresh: it appears when the host goes live (or fills the shelf)
// and goes when the show ends. One timer however often Join is pressed.
let shelfTimer = null;
function followShow(slug) {
  if (shelfTimer) return;
  const tick = async () => {
    try {
      const c = await api(`/api/v1/channels/${encodeURIComponent(slug)}`);
      if (c.live && c.current_show) await showShelf(c.current_show.id);
      else $('statements').hidden = true;
    } catch {
      /* try again */
    }
  };
  tick();
  shelfTimer = setInterval(tick, 10000);
}

// The guest's own statement of use, product by product ("I have used it"); drawn again only
// when the shelf or a statement changed.
let shelfDrawn = '';
async function showShelf(show) {
  let cards;
  try {
    cards = await api(`/api/v1/shows/${show}/shelf`);
  } catch (e) {
    $('error').textContent = e.problem?.detail || e.message;
    return;
  }
  $('statements').hidden = cards.length === 0;
  const drawn = `${show}:${cards.map((c) => `${c.id}${c.co_host_used ? '+' : ''}`).join(',')}`;
  if (drawn === shelfDrawn) return;
  shelfDrawn = drawn;
  $('shelf').replaceChildren(...cards.map((c) => {
    const box = h('input', { type: 'checkbox', name: 'co_host_used', value: c.id, checked: !!c.co_host_used });
    const said = h('span', { class: 'meta' });
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        const card = await api(`/api/v1/shows/${show}/shelf/${c.id}/co-host`, { method: 'PUT', body: { used: box.checked } });
        said.textContent = ` — ${card.co_host_attestation}`;
      } catch (e) {
        box.checked = !box.checked;
        $('error').textContent = e.problem?.detail || e.message;
      }
      box.disabled = false;
    });
    return h('li', {}, h('strong', {}, c.title), ' ', h('label', { class: 'meta' }, box, ' I have used it'), said);
  }));
}

async function leave() {
  if (call) await call.stop();
  call = null;
  if (camera) camera.getTracks().forEach((t) => t.stop());
  $('host').srcObject = null;
  $('leave').hidden = true;
  $('join').hidden = false;
  $('state').textContent = 'You left.';
}

$('join').addEventListener('click', join);
$('leave').addEventListener('click', leave);
load();
