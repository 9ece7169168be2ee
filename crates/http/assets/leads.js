// 1:1 video consults in the merchant console: open products to consults, see requests as they
// come, accept one (the first staff member to accept has it), talk over video, end the call
// with a note of what came of it. The same JSON API as any client.
import { api, h, when } from './app.js';
import { joinCall } from './webrtc.js';

const $ = (id) => document.getElementById(id);
let current = null;
let products = [];
let call = null; // { lead, session, camera }
let bound = false;

const STATES = {
  requested: 'waiting for an answer',
  accepted: 'in a call',
  ended: 'ended',
  declined: 'declined',
  cancelled: 'withdrawn by the viewer',
  missed: 'missed',
};

export async function loadLeads(org, productList) {
  current = org;
  products = productList || products;
  if (!bound) {
    bound = true;
    $('consultable-form').addEventListener('submit', setConsultable);
    $('consult-end').addEventListener('click', endCall);
    setInterval(() => current && refresh(), 3000);
  }
  $('consultable-product').replaceChildren(...products.map((p) =>
    h('option', { value: p.id }, `${p.title}${p.consultable ? ' (open to consults)' : ''}`)));
  await refresh();
}

async function refresh() {
  const org = current;
  let list;
  try {
    list = await api(`/api/v1/orgs/${org.id}/leads`);
  } catch (e) {
    $('leads-panel').hidden = e.status === 403 || e.status === 404;
    return;
  }
  if (current !== org) return;
  $('leads-panel').hidden = false;
  const waiting = list.filter((l) => l.state === 'requested').length;
  $('leads-count').textContent = waiting ? `${waiting} waiting` : '';
  const td = (label, ...children) => h('td', { 'data-label': label }, ...children);
  $('leads').replaceChildren(...(list.length
    ? [h('tr', {}, h('th', {}, 'Viewer'), h('th', {}, 'Product'), h('th', {}, 'State'), h('th', {}, 'Outcome'), h('th', {}, '')),
      ...list.map((l) => h('tr', { 'data-lead': String(l.id), 'data-state': l.state },
        td('Viewer', l.buyer_name, h('div', { class: 'meta' }, `asked ${when(l.created_at)}`)),
        td('Product', l.product_title),
        td('State', STATES[l.state] || l.state),
        td('Outcome', l.outcome || '—'),
        td('', ...actions(l))))]
    : [h('tr', {}, h('td', { class: 'meta' }, 'No consult requests yet.'))]));
}

function actions(l) {
  if (l.state === 'requested') {
    return [
      h('button', { class: 'accept-lead', onclick: () => accept(l) }, 'Accept'),
      h('button', { class: 'secondary', onclick: () => decline(l) }, 'Decline'),
    ];
  }
  return [];
}

async function setConsultable(e) {
  e.preventDefault();
  const f = e.target.elements;
  $('leads-error').textContent = '';
  try {
    await api(`/api/v1/products/${f.product.value}/consultable`, { method: 'PUT', body: { consultable: f.open.checked } });
    const p = products.find((x) => String(x.id) === f.product.value);
    if (p) p.consultable = f.open.checked;
    loadLeads(current);
  } catch (err) {
    $('leads-error').textContent = err.problem?.detail || err.message;
  }
}

async function decline(l) {
  await api(`/api/v1/leads/${l.id}/decline`, { method: 'POST', body: {} }).catch((e) => { $('leads-error').textContent = e.message; });
  refresh();
}

async function accept(l) {
  $('leads-error').textContent = '';
  let lead;
  try {
    lead = await api(`/api/v1/leads/${l.id}/accept`, { method: 'POST', body: {} });
  } catch (e) {
    $('leads-error').textContent = e.problem?.detail || e.message;
    refresh();
    return;
  }
  let camera;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  } catch (e) {
    $('leads-error').textContent = `The camera or microphone cannot be used: ${e.message}`;
    return;
  }
  $('consult-me').srcObject = camera;
  $('consult-call').hidden = false;
  $('consult-who').textContent = `${lead.buyer_name} about ${lead.product_title}`;
  try {
    const session = await joinCall(lead.call_url, camera, $('consult-them'));
    call = { lead, session, camera };
    window.__hawkerConsult = session;
  } catch (e) {
    $('leads-error').textContent = `The call could not start: ${e.message}`;
  }
  refresh();
}

async function endCall() {
  if (!call) return;
  const outcome = $('consult-outcome').value.trim();
  try {
    await api(`/api/v1/leads/${call.lead.id}/end`, { method: 'POST', body: outcome ? { outcome } : {} });
  } catch (e) {
    // The viewer hung up first: the note goes on the ended lead.
    if (outcome) await api(`/api/v1/leads/${call.lead.id}/outcome`, { method: 'PUT', body: { outcome } }).catch(() => {});
  }
  call.session.close(); // ending the consult closed the call on the server
  call.camera.getTracks().forEach((t) => t.stop());
  call = null;
  window.__hawkerConsult = null;
  $('consult-call').hidden = true;
  $('consult-outcome').value = '';
  refresh();
}
