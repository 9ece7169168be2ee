// The merchant console's webhooks panel: subscriptions (the secret shown once, when created),
// the delivery log with each delivery's attempts, and redelivery. Same JSON API as any client.
import { api, h, when } from './app.js';

const $ = (id) => document.getElementById(id);
let current = null;
let topics = [];

export async function loadWebhooks(org) {
  current = org;
  let data;
  try {
    data = await api(`/api/v1/orgs/${org.id}/webhooks`);
  } catch (e) {
    // Webhooks are for the shop's owners and managers.
    $('webhooks-panel').hidden = e.status === 403;
    $('webhook-error').textContent = e.status === 403 ? '' : e.message;
    return;
  }
  $('webhooks-panel').hidden = false;
  topics = data.topics || [];
  renderTopics();
  const td = (label, ...children) => h('td', { 'data-label': label }, ...children);
  $('webhooks').replaceChildren(...(data.webhooks.length
    ? [h('tr', {}, h('th', {}, 'Address'), h('th', {}, 'Topics'), h('th', {}, 'Since'), h('th', {}, '')),
      ...data.webhooks.map((w) => h('tr', { 'data-webhook': String(w.id) },
        td('Address', h('code', {}, w.url)),
        td('Topics', w.topics.join(', ')),
        td('Since', when(w.created_at)),
        td('', h('button', { type: 'button', class: 'secondary', onclick: () => removeWebhook(w) }, 'Remove'))))]
    : [h('tr', {}, h('td', { class: 'empty' }, 'No webhooks yet: add your system\'s address below.'))]));
  await loadDeliveries();
}

function renderTopics() {
  const box = $('webhook-topics');
  if (box.childElementCount) return;
  box.replaceChildren(
    h('label', { class: 'notice' }, h('input', { type: 'checkbox', value: '*', checked: true }), ' everything'),
    ...topics.map((t) => h('label', { class: 'notice' }, h('input', { type: 'checkbox', value: t }), ` ${t}`)));
}

async function removeWebhook(w) {
  if (!confirm(`Stop sending events to ${w.url}?`)) return;
  try {
    await api(`/api/v1/orgs/${current.id}/webhooks/${w.id}`, { method: 'DELETE' });
  } catch (e) {
    $('webhook-error').textContent = e.message;
  }
  loadWebhooks(current);
}

async function loadDeliveries() {
  const state = $('delivery-state').value;
  const q = state ? `?state=${encodeURIComponent(state)}` : '';
  const list = (await api(`/api/v1/orgs/${current.id}/webhook-deliveries${q}`)).deliveries || [];
  const td = (label, ...children) => h('td', { 'data-label': label }, ...children);
  $('deliveries').replaceChildren(...(list.length
    ? [h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Event'), h('th', {}, 'State'), h('th', {}, 'Attempts'),
      h('th', {}, 'Last answer'), h('th', {}, '')),
      ...list.map((d) => h('tr', { 'data-delivery': String(d.id), 'data-state': d.state },
        td('When', when(d.created_at)),
        td('Event', d.topic, h('div', { class: 'meta' }, d.event)),
        td('State', h('span', { class: `state delivery-${d.state}` }, d.state),
          d.state === 'pending' && d.next_at ? h('div', { class: 'meta' }, `next ${when(d.next_at)}`) : null),
        td('Attempts', String(d.attempts)),
        td('Last answer', d.last_status ? `HTTP ${d.last_status}` : (d.last_error || '—')),
        td('', h('div', { class: 'row' },
          h('button', { type: 'button', class: 'secondary', onclick: () => showDelivery(d) }, 'Details'),
          h('button', { type: 'button', class: 'secondary', 'data-action': 'redeliver', onclick: () => redeliver(d) }, 'Send again')))))]
    : [h('tr', {}, h('td', { class: 'empty' }, 'No deliveries yet.'))]));
}

async function showDelivery(d) {
  const full = await api(`/api/v1/orgs/${current.id}/webhook-deliveries/${d.id}`);
  $('delivery-detail').hidden = false;
  $('delivery-detail').replaceChildren(
    h('h3', {}, `${full.topic} · ${full.event}`),
    h('ol', {}, ...(full.attempt_log || []).map((a) =>
      h('li', {}, `${when(a.at)}: ${a.status ? `HTTP ${a.status}` : a.error} (${a.duration_ms} ms)`))),
    h('pre', {}, JSON.stringify(full.payload, null, 2)));
}

async function redeliver(d) {
  $('webhook-error').textContent = '';
  try {
    await api(`/api/v1/orgs/${current.id}/webhook-deliveries/${d.id}/redeliver`, { method: 'POST', body: {} });
    $('webhook-error').textContent = `Delivery ${d.id} queued to be sent again.`;
  } catch (e) {
    $('webhook-error').textContent = e.message;
  }
  setTimeout(loadDeliveries, 1500);
}

$('delivery-state').addEventListener('change', () => loadDeliveries());

$('new-webhook').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const chosen = [...$('webhook-topics').querySelectorAll('input:checked')].map((i) => i.value);
  $('webhook-error').textContent = '';
  try {
    const w = await api(`/api/v1/orgs/${current.id}/webhooks`, { method: 'POST', body: {
      url: f.url.value, topics: chosen.includes('*') ? ['*'] : chosen,
    } });
    e.target.reset();
    $('webhook-secret').hidden = false;
    $('webhook-secret').replaceChildren(
      h('p', {}, 'Signing secret for ', h('code', {}, w.url), ' (shown only now; keep it in your system):'),
      h('code', { class: 'secret' }, w.secret));
    loadWebhooks(current);
  } catch (err) {
    $('webhook-error').textContent = err.message;
  }
});
