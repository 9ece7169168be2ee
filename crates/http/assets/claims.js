// Defect claims. What every page shows of a claim (its state, remedy, notes and photos), and
// the merchant console's panel: the shop's claims, answered with Accept (a refund, keeping the
// goods or after their return) or Dispute (with a reason the platform reads). Same JSON API as
// any client; nothing here touches the page until a function is called, so the buyer's orders
// page and the ops console import the shared parts too.
import { api, h, when } from './app.js';

export const STATES = {
  open: 'waiting for the seller',
  accepted: 'accepted by the seller',
  disputed: 'disputed: the platform decides',
  upheld: 'upheld by the platform',
  rejected: 'rejected by the platform',
};

export const REMEDIES = {
  refund_without_return: 'refund, the goods are kept',
  refund_with_return: 'refund once the goods are sent back',
};

/** The claim's state as a badge. */
export function stateBadge(c) {
  return h('span', { class: `state claim-${c.state}`, 'data-claim-state': c.state }, STATES[c.state] || c.state);
}

/** The claim's photos as thumbnails, each a link to the full image. */
export function photoStrip(c) {
  const photos = c.photos || [];
  if (!photos.length) return h('div', { class: 'meta' }, 'No photos.');
  return h('div', { class: 'thumbs' }, photos.map((url, i) =>
    h('a', { href: url, target: '_blank', rel: 'noopener' },
      h('img', { src: url, alt: `Photo ${i + 1} of the defect`, loading: 'lazy' }))));
}

/** The remedy and both sides' notes, as far as they exist. */
export function claimNotes(c) {
  return [
    c.remedy ? h('div', { class: 'claim-remedy' }, `Remedy: ${REMEDIES[c.remedy] || c.remedy}`) : null,
    c.seller_note ? h('div', { class: 'claim-note' }, h('span', { class: 'meta' }, 'Seller: '), c.seller_note) : null,
    c.platform_note ? h('div', { class: 'claim-note' }, h('span', { class: 'meta' }, 'Platform: '), c.platform_note) : null,
  ];
}

// ---------------------------------------------------------------- the merchant console's panel

const $ = (id) => document.getElementById(id);
let current = null;
let bound = false;

export async function loadClaims(org) {
  current = org;
  if (!bound) {
    bound = true;
    $('claims-state').addEventListener('change', () => loadClaims(current));
  }
  const state = $('claims-state').value;
  const q = state ? `?state=${encodeURIComponent(state)}` : '';
  let list;
  try {
    list = (await api(`/api/v1/orgs/${org.id}/defect-claims${q}`)).claims || [];
  } catch (e) {
    // Claims are for the staff who handle orders.
    $('claims-panel').hidden = e.status === 403;
    $('claims-error').textContent = e.status === 403 ? '' : e.message;
    return;
  }
  if (current !== org) return; // another organisation was chosen meanwhile
  $('claims-panel').hidden = false;
  const open = list.filter((c) => c.state === 'open').length;
  $('claims-count').textContent = open ? `${open} waiting for your answer` : '';
  const td = (label, ...children) => h('td', { 'data-label': label }, ...children);
  $('defect-claims').replaceChildren(...(list.length
    ? [h('tr', {}, h('th', {}, 'Order'), h('th', {}, 'What is wrong'), h('th', {}, 'Photos'), h('th', {}, 'State'), h('th', {}, '')),
      ...list.map((c) => h('tr', { 'data-claim': String(c.id), 'data-state': c.state },
        td('Order', String(c.order), h('div', { class: 'meta' }, `filed ${when(c.created_at)}`)),
        h('td', { 'data-label': 'What is wrong', class: 'wide' }, h('div', { class: 'claim-text' }, c.description)),
        td('Photos', photoStrip(c)),
        td('State', stateBadge(c), claimNotes(c)),
        td('', c.state === 'open' ? answerBox(c) : null)))]
    : [h('tr', {}, h('td', { class: 'empty' }, state ? `No ${state} claims.` : 'No defect claims.'))]));
}

function answerBox(c) {
  const note = h('textarea', { name: 'note', rows: '2', maxlength: '1000', placeholder: 'Why you dispute it (the buyer and the platform read this)' });
  const send = h('button', { type: 'button', class: 'secondary', 'data-action': 'send-dispute' }, 'Send dispute');
  const disputeForm = h('div', { class: 'stack', hidden: true }, h('label', {}, 'Reason', note), send);
  const error = h('div', { class: 'error' });
  const buttons = [
    h('button', { type: 'button', 'data-action': 'accept-keep' }, 'Accept — refund (keep goods)'),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'accept-return' }, 'Accept — refund after return'),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'dispute' }, 'Dispute'),
  ];
  const answer = async (body, button) => {
    error.textContent = '';
    button.disabled = true;
    try {
      await api(`/api/v1/defect-claims/${c.id}/answer`, { method: 'POST', body });
      document.dispatchEvent(new CustomEvent('claim-answered', { detail: c.id }));
      await loadClaims(current);
    } catch (e) {
      error.textContent = e.message;
      button.disabled = false;
    }
  };
  buttons[0].addEventListener('click', () => {
    if (confirm(`Refund order ${c.order} now? The buyer keeps the goods.`)) {
      answer({ action: 'accept', remedy: 'refund_without_return' }, buttons[0]);
    }
  });
  buttons[1].addEventListener('click', () => answer({ action: 'accept', remedy: 'refund_with_return' }, buttons[1]));
  buttons[2].addEventListener('click', () => {
    disputeForm.hidden = false;
    note.focus();
  });
  send.addEventListener('click', () => {
    if (!note.value.trim()) {
      error.textContent = 'Say why you dispute the claim: the platform decides on it.';
      return;
    }
    answer({ action: 'dispute', note: note.value.trim() }, send);
  });
  return h('div', { class: 'stack claim-answer' }, h('div', { class: 'row' }, buttons), disputeForm, error);
}
