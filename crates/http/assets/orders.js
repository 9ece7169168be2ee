// The buyer's orders: state, seller of record, tracking, and what the buyer may do next;
// on a delivered order, a defect report (a description and photos), and afterwards the
// claim's state, remedy and the seller's and the platform's notes.
import { api, ApiError, h, me, renderHeader, when } from './app.js';
import { claimNotes, photoStrip, stateBadge } from './claims.js';

renderHeader();
const box = document.getElementById('orders');

const actions = {
  created: [['cancel', 'Cancel']],
  paid: [['cancel', 'Cancel']],
  shipped: [['confirm_delivery', 'I received it']],
  delivered: [['request_return', 'Return it']],
};

const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const MAX_PHOTO = 5 * 1024 * 1024;
const MAX_PHOTOS = 6;

async function act(o, action) {
  const body = { action };
  if (action === 'request_return') body.reason = prompt('Why are you returning it?') || '';
  try {
    await api(`/api/v1/orders/${o.id}/actions`, { method: 'POST', body });
  } catch (e) {
    alert(e.message);
  }
  load();
}

/** A photo's raw bytes to the claim; a refusal surfaces as the problem document's detail. */
async function upload(claim, file) {
  const res = await fetch(`/api/v1/defect-claims/${claim}/photos`, {
    method: 'POST',
    headers: { 'content-type': file.type },
    body: file,
    credentials: 'same-origin',
  });
  if (res.ok) return res.json();
  const type = res.headers.get('content-type') || '';
  const problem = type.includes('json') ? await res.json() : { title: await res.text() };
  throw new ApiError(problem, res.status);
}

/** Photos a browser may send: the right types, sizes and number, or why not. */
function photoProblem(files) {
  if (files.length > MAX_PHOTOS) return `At most ${MAX_PHOTOS} photos.`;
  for (const f of files) {
    if (!PHOTO_TYPES.includes(f.type)) return `${f.name} is not a JPEG, PNG or WebP photo.`;
    if (f.size > MAX_PHOTO) return `${f.name} is larger than 5 MB.`;
  }
  return '';
}

function perishables(o) {
  return o.items.filter((i) => i.return_class === 'perishable').map((i) => i.title);
}

/** The defect report: what is wrong, photos, and the deadline perishables are held to. */
function defectForm(o) {
  const perishable = perishables(o);
  const description = h('textarea', { name: 'description', rows: '3', minlength: '10', maxlength: '2000', required: true,
    placeholder: 'What is wrong? For example: the flowers arrived wilted, the screen is cracked.' });
  const photos = h('input', { type: 'file', name: 'photos', accept: PHOTO_TYPES.join(','), multiple: true });
  const error = h('div', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Send report');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const delivered = o.delivered_at ? `It was delivered ${when(o.delivered_at)}. ` : '';
  const form = h('form', { class: 'stack claim-form', 'data-defect-form': String(o.id), hidden: true, novalidate: true },
    h('strong', {}, 'Report a defect'),
    h('p', { class: 'meta' }, o.defect_claim_deadline
      ? `${delivered}${perishable.length ? `${perishable.join(', ')} ${perishable.length > 1 ? 'are' : 'is'} perishable: ` : ''}report a defect by ${when(o.defect_claim_deadline)}. Photos help the seller and the platform decide.`
      : perishable.length
        ? `${delivered}${perishable.join(', ')} ${perishable.length > 1 ? 'are' : 'is'} perishable: a defect must be reported within a few days of delivery. Report it as soon as you see it.`
        : `${delivered}Report a defect within the return period. Photos help the seller and the platform decide.`),
    h('label', {}, 'What is wrong (at least 10 characters)', description),
    h('label', {}, `Photos (JPEG, PNG or WebP, up to ${MAX_PHOTOS}, 5 MB each)`, photos),
    error,
    h('div', { class: 'row' }, submit, cancel));
  cancel.addEventListener('click', () => {
    form.hidden = true;
    error.textContent = '';
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const files = [...photos.files];
    const text = description.value.trim();
    if (text.length < 10) {
      error.textContent = 'Say what is wrong in at least 10 characters.';
      return;
    }
    const problem = photoProblem(files);
    if (problem) {
      error.textContent = problem;
      return;
    }
    submit.disabled = true;
    let claim;
    try {
      claim = await api(`/api/v1/orders/${o.id}/defect-claims`, { method: 'POST', body: { description: text } });
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
      return;
    }
    const failed = [];
    for (const f of files) {
      try {
        await upload(claim.id, f);
      } catch (err) {
        failed.push(`${f.name}: ${err.message}`);
      }
    }
    await load();
    if (failed.length) {
      const note = document.querySelector(`#order-${o.id} .claim .error`);
      if (note) note.textContent = `Your report is filed, but some photos were not added. ${failed.join(' ')}`;
    }
  });
  return form;
}

/** A claim under way takes more photos until it is decided. */
function addPhotos(c) {
  if (!['open', 'disputed'].includes(c.state) || c.photos.length >= MAX_PHOTOS) return null;
  const input = h('input', { type: 'file', accept: PHOTO_TYPES.join(','), multiple: true, 'aria-label': 'Add photos' });
  input.addEventListener('change', async () => {
    const files = [...input.files].slice(0, MAX_PHOTOS - c.photos.length);
    const error = input.closest('.claim').querySelector('.error');
    const problem = photoProblem(files);
    if (problem) {
      error.textContent = problem;
      return;
    }
    try {
      for (const f of files) await upload(c.id, f);
      load();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return h('label', {}, 'Add photos', input);
}

const NEXT_STEP = {
  open: 'The seller has been asked to answer.',
  disputed: 'The seller disputes it; the platform reviews your photos and decides.',
  rejected: 'The platform did not find a defect.',
};

function claimBlock(o, c) {
  let next = NEXT_STEP[c.state] || '';
  if (c.remedy === 'refund_with_return' && o.state === 'return_approved') next = 'Send the goods back to the seller; you are refunded when they arrive.';
  if (o.state === 'refunded') next = 'Your money has been refunded.';
  return h('div', { class: 'claim', 'data-claim': String(c.id), 'data-state': c.state },
    h('div', { class: 'row' }, h('strong', {}, 'Defect report'), stateBadge(c)),
    h('div', { class: 'claim-text' }, c.description),
    h('div', { class: 'meta' }, `Filed ${when(c.created_at)} · report by ${when(c.deadline)}`),
    claimNotes(c),
    next ? h('div', { class: 'meta claim-next' }, next) : null,
    photoStrip(c),
    addPhotos(c),
    h('div', { class: 'error', role: 'alert' }));
}

function orderCard(o, claim) {
  const underWay = claim && ['open', 'disputed', 'accepted'].includes(claim.state);
  const form = o.state === 'delivered' && !underWay ? defectForm(o) : null;
  // Perishable, custom-made and digital goods have no return without a defect: no button
  // the server would refuse; the defect report is their way back.
  const excepted = (o.items || []).some((i) => i.return_class && i.return_class !== 'normal');
  const buttons = (actions[o.state] || [])
    .filter(([a]) => !(a === 'request_return' && excepted))
    .map(([a, label]) =>
      h('button', { type: 'button', class: 'secondary', onclick: () => act(o, a) }, label));
  if (form) {
    buttons.push(h('button', { type: 'button', class: 'secondary', 'data-action': 'report-defect', onclick: () => {
      form.hidden = false;
      form.querySelector('textarea').focus();
    } }, 'Report a defect'));
  }
  return h('div', { class: 'card', id: `order-${o.id}`, 'data-state': o.state },
    h('div', { class: 'row' },
      h('strong', { style: 'flex:1' }, `Order ${o.id}`),
      h('span', { class: `state ${o.state}` }, o.state.replace(/_/g, ' '))),
    o.items.map((i) => h('div', {}, `${i.quantity} × ${i.title} — ${i.unit_price}`)),
    h('div', {}, `Total ${o.total}`, o.discount && !/^\D*0([.,]0+)?$/.test(o.discount.trim()) ? ` (discount ${o.discount})` : ''),
    h('div', { class: 'meta' }, `Sold by ${o.seller.name} · ${when(o.created_at)}`),
    o.tracking ? h('div', { class: 'meta' }, [o.carrier, o.tracking].filter(Boolean).join(' ')) : null,
    h('div', { class: 'row' }, buttons),
    form,
    claim ? claimBlock(o, claim) : null);
}

async function load() {
  if (!(await me())) {
    box.replaceChildren(h('p', {}, h('a', { href: '/login?next=/orders' }, 'Log in'), ' to see your orders.'));
    return;
  }
  const [orders, claims] = await Promise.all([
    api('/api/v1/me/orders'),
    api('/api/v1/me/defect-claims').then((r) => r.claims || [], () => []),
  ]);
  if (!orders.length) {
    box.replaceChildren(h('p', { class: 'meta' }, 'No orders yet. Buy from a live show and they appear here.'));
    return;
  }
  // Newest first: an order shows its latest claim.
  const latest = new Map();
  for (const c of claims) if (!latest.has(c.order)) latest.set(c.order, c);
  box.replaceChildren(...orders.map((o) => orderCard(o, latest.get(String(o.id)))));
}
load();
