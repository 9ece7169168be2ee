// Buying without leaving the stream: the pinned product card, the flash-sale banner and the
// checkout overlay (SKU → quantity → address → return notice → pay → confirmation).
import { api, h, me } from './app.js';
import { joinCall } from './webrtc.js';

const $ = (id) => document.getElementById(id);
let current = { pinned: [], sale: null };
let saleTimer = null;

function key() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random()}`;
}

/** Called with every room state: renders the pinned card and the sale banner. */
export function updateShop(state) {
  current = { pinned: state.pinned || [], sale: state.sale || null };
  const p = current.pinned[0];
  const card = $('pinned');
  card.hidden = !p;
  if (p) renderPinned(card, p);
  renderSale();
  clearInterval(saleTimer);
  if (current.sale) saleTimer = setInterval(renderSale, 250);
}

// The card is compact (docked at the foot of the video, a few lines) until the viewer opens
// it; it stays open or closed across re-pins.
let pinOpen = false;

function renderPinned(card, p) {
  card.classList.toggle('open', pinOpen);
  const toggle = h('button', {
    type: 'button', class: 'pin-toggle link', id: 'pin-toggle', 'aria-expanded': String(pinOpen),
    title: pinOpen ? 'Less' : 'More about this product',
    onclick: () => {
      pinOpen = !pinOpen;
      renderPinned(card, p);
    },
  }, pinOpen ? '▾' : '▴');
  // Nulls are left out: replaceChildren would print them.
  card.replaceChildren(...[
    p.image_url ? h('img', { src: p.image_url, alt: '', class: 'pin-img' }) : null,
    h('div', { class: 'pin-body' },
      h('div', { class: 'pin-head' },
        h('span', { class: 'pin-title' }, p.title),
        h('span', { class: 'pin-price' }, p.price)),
      h('div', { class: 'pin-seller meta' },
        // Paid promotion carries the law profile's label for as long as it is shown.
        p.paid_promotion || p.sponsored
          ? h('span', { class: 'chip ad', id: 'pin-ad' }, p.label || 'Ad · paid partnership')
          : null,
        p.seller ? `Sold by ${p.seller}` : null),
      p.attestation ? h('div', { class: 'meta attest pin-more', id: 'pin-attestation' }, p.attestation) : null,
      // A co-host on air speaks for themselves, beside the host.
      p.co_host_attestation ? h('div', { class: 'meta attest pin-more', id: 'pin-co-host-attestation' }, p.co_host_attestation) : null),
    h('div', { class: 'pin-actions' },
      h('button', { id: 'buy-pinned', onclick: () => openCheckout(p.product_id) }, 'Buy'),
      consultable.get(p.product_id)
        ? h('button', { id: 'talk-pinned', class: 'secondary', onclick: () => openConsult(p.product_id) }, 'Talk to the seller')
        : null,
      toggle),
  ].filter(Boolean));
  // Whether the seller takes video consults on it: asked once per product.
  if (!consultable.has(p.product_id)) {
    consultable.set(p.product_id, false);
    api(`/api/v1/products/${p.product_id}`)
      .then((full) => {
        consultable.set(p.product_id, Boolean(full.consultable));
        if (full.consultable) renderPinned(card, p);
      })
      .catch(() => {});
  }
}

const consultable = new Map(); // product id → the seller takes video consults on it

/** *Talk to the seller*: the consent notice, the request, waiting for the seller's staff, the
 *  call (your camera and theirs), hanging up. */
async function openConsult(productId) {
  const d = dialog();
  if (await needLogin(d)) return;
  const form = h('form', { class: 'stack', id: 'consult-form' },
    h('h2', {}, 'Talk to the seller'),
    h('p', {}, 'You start a video call with the seller\'s staff: they see and hear you, you see and hear them. The call is not recorded.'),
    h('label', { class: 'notice' }, h('input', { type: 'checkbox', name: 'consent', id: 'consult-consent', required: true }),
      ' I agree to a video call with the seller\'s staff'),
    errorLine(),
    h('div', { class: 'row' }, h('button', { id: 'consult-request' }, 'Call the seller'),
      h('button', { type: 'button', class: 'link', onclick: () => d.close() }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let lead;
    try {
      lead = await api(`/api/v1/products/${productId}/consults`, {
        method: 'POST',
        body: { consent: form.elements.consent.checked, channel: window.__hawkerSlug || undefined },
      });
    } catch (err) {
      showError(d, err.problem ? new Error(err.problem.detail || err.problem.title) : err);
      return;
    }
    consultCall(d, lead);
  });
  d.replaceChildren(form);
  d.showModal();
}

async function consultCall(d, lead) {
  const status = h('p', { id: 'consult-status' }, 'Waiting for the seller\'s staff to answer…');
  const them = h('video', { id: 'consult-them', playsinline: true, autoplay: true });
  const mine = h('video', { id: 'consult-me', playsinline: true, autoplay: true, muted: true });
  let session = null;
  let camera = null;
  let timer = null;
  const hangUp = async () => {
    clearInterval(timer);
    await api(`/api/v1/leads/${lead.id}/end`, { method: 'POST', body: {} }).catch(() => {});
    if (session && session.close) session.close(); // ending the consult closed the call
    if (camera) camera.getTracks().forEach((t) => t.stop());
    window.__hawkerConsult = null;
    d.close();
  };
  d.replaceChildren(h('div', { class: 'stack' },
    h('h2', {}, 'Talk to the seller'), status,
    h('div', { class: 'stage' }, them), h('div', { class: 'stage' }, mine),
    h('button', { id: 'consult-hang-up', onclick: hangUp }, 'Hang up')));
  timer = setInterval(async () => {
    let now;
    try {
      now = await api(`/api/v1/leads/${lead.id}`);
    } catch {
      return;
    }
    if (now.state === 'accepted' && !session) {
      session = 'joining';
      status.textContent = 'Connecting…';
      try {
        camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
        mine.srcObject = camera;
        session = await joinCall(now.call_url, camera, them);
        window.__hawkerConsult = session;
        status.textContent = 'In a call with the seller.';
      } catch (e) {
        status.textContent = `The call could not start: ${e.message}`;
      }
    } else if (['declined', 'missed', 'cancelled', 'ended'].includes(now.state)) {
      clearInterval(timer);
      status.textContent = now.state === 'declined' ? 'The seller cannot take the call now.' : 'The call has ended.';
      if (session && session.close) session.close();
      if (camera) camera.getTracks().forEach((t) => t.stop());
      session = null;
      window.__hawkerConsult = null;
    }
  }, 1500);
}

function renderSale() {
  const s = current.sale;
  const el = $('sale');
  el.hidden = !s;
  if (!s) return;
  const now = Date.now();
  let status;
  let canBuy = false;
  if (s.starts_at_ms && now < s.starts_at_ms) {
    const secs = Math.ceil((s.starts_at_ms - now) / 1000);
    status = secs <= 300
      ? `Flash sale starts in ${secs} s`
      : `Flash sale at ${new Date(s.starts_at_ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  } else if (s.ends_at_ms && now >= s.ends_at_ms) {
    status = 'Flash sale over';
  } else if (s.remaining <= 0) {
    status = 'Sold out';
  } else {
    const left = s.ends_at_ms ? Math.max(0, Math.ceil((s.ends_at_ms - now) / 1000)) : 0;
    status = `Flash sale · ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    canBuy = true;
  }
  el.replaceChildren(
    h('div', { class: 'sale-status', id: 'sale-status' }, status),
    h('div', { class: 'sale-price' }, s.price),
    h('div', { class: 'meta', id: 'sale-remaining' }, `${s.remaining} left`),
    h('button', { id: 'sale-buy', disabled: !canBuy, onclick: () => openFlash(s) }, 'Buy now'),
  );
}

// ---------------------------------------------------------------- the overlay

function dialog() {
  let d = $('checkout');
  if (!d) {
    d = h('dialog', { id: 'checkout', class: 'checkout' });
    document.body.append(d);
  }
  return d;
}

function addressFields() {
  const saved = JSON.parse(localStorage.getItem('hawker-address') || '{}');
  const f = (name, label, auto) =>
    h('label', {}, label, h('input', { name, value: saved[name] || '', autocomplete: auto, required: name !== 'postcode' }));
  return h('fieldset', { class: 'stack' }, h('legend', {}, 'Deliver to'),
    f('name', 'Name', 'name'), f('line1', 'Address', 'address-line1'),
    f('city', 'City', 'address-level2'), f('postcode', 'Postcode', 'postal-code'));
}

function readAddress(form) {
  const a = {};
  for (const k of ['name', 'line1', 'city', 'postcode']) a[k] = form.elements[k].value.trim();
  localStorage.setItem('hawker-address', JSON.stringify(a));
  return a;
}

async function needLogin(d) {
  if (await me()) return false;
  d.replaceChildren(h('div', { class: 'stack' },
    h('p', {}, 'Log in to buy — you will come back to the show.'),
    h('a', { class: 'button', href: `/login?next=${encodeURIComponent(location.pathname)}` }, 'Log in'),
    h('button', { class: 'link', onclick: () => d.close() }, 'Cancel')));
  d.showModal();
  return true;
}

function errorLine() {
  return h('div', { class: 'error', id: 'checkout-error' });
}

function showError(d, e) {
  const el = d.querySelector('#checkout-error');
  if (el) el.textContent = e.message || String(e);
}

export async function openCheckout(productId) {
  const d = dialog();
  if (await needLogin(d)) return;
  const p = await api(`/api/v1/products/${productId}`);
  const idem = key();
  const sku = h('select', { name: 'sku', id: 'checkout-sku' },
    p.skus.map((s) => h('option', { value: s.id }, `${s.label} — ${s.price}`)));
  const form = h('form', { class: 'stack', id: 'checkout-form' },
    h('h2', {}, p.title),
    h('div', { class: 'meta' }, `Sold by ${p.seller.name}`),
    p.sponsored ? h('span', { class: 'chip ad' }, 'Ad · paid partnership') : null,
    h('label', {}, 'Variant', sku),
    h('label', {}, 'Quantity', h('input', { name: 'quantity', type: 'number', min: 1, max: 99, value: 1 })),
    addressFields(),
    h('label', {}, 'Coupon', h('input', { name: 'coupon', placeholder: 'optional' })),
    p.return_notice
      ? h('label', { class: 'notice' }, h('input', { type: 'checkbox', name: 'ack', required: true }), ` ${p.return_notice}`)
      : null,
    errorLine(),
    h('div', { class: 'row' }, h('button', { id: 'checkout-place' }, 'Place order'),
      h('button', { type: 'button', class: 'link', onclick: () => d.close() }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const res = await fetch('/api/v1/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idem },
        body: JSON.stringify({
          items: [{ sku: Number(form.elements.sku.value), quantity: Number(form.elements.quantity.value) }],
          address: readAddress(form),
          coupon: form.elements.coupon.value.trim() || undefined,
          channel: window.__hawkerSlug,
          replay_of: window.__hawkerReplayOf,
          acknowledge_exceptions: form.elements.ack ? form.elements.ack.checked : false,
        }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.detail || body.title);
      payStep(d, body.id);
    } catch (err) {
      showError(d, err);
    }
  });
  d.replaceChildren(form);
  d.showModal();
}

async function openFlash(sale) {
  const d = dialog();
  if (await needLogin(d)) return;
  const idem = key();
  const form = h('form', { class: 'stack', id: 'flash-form' },
    h('h2', {}, `Flash sale · ${sale.price}`),
    addressFields(), errorLine(),
    h('div', { class: 'row' }, h('button', { id: 'flash-place' }, 'Reserve and pay'),
      h('button', { type: 'button', class: 'link', onclick: () => d.close() }, 'Cancel')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const res = await fetch(`/api/v1/flash-sales/${sale.sale_id}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idem },
        body: JSON.stringify({ quantity: 1, address: readAddress(form) }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.detail || body.title);
      payStep(d, body.order);
    } catch (err) {
      showError(d, err);
    }
  });
  d.replaceChildren(form);
  d.showModal();
}

async function payStep(d, orderId) {
  const o = await api(`/api/v1/orders/${orderId}`);
  const card = h('input', { name: 'card', id: 'checkout-card', inputmode: 'numeric', value: '4242 4242 4242 4242' });
  const form = h('form', { class: 'stack', id: 'pay-form' },
    h('h2', {}, `Pay ${o.total}`),
    h('div', { class: 'meta' }, `Order ${o.id} · sold by ${o.seller.name}`),
    o.items.map((i) => h('div', {}, `${i.quantity} × ${i.title} — ${i.unit_price}`)),
    o.discount && !/^\D*0([.,]0+)?$/.test(o.discount.trim()) ? h('div', { class: 'meta' }, `Discount ${o.discount}`) : null,
    o.expires_at ? h('div', { class: 'meta' }, `Reserved for you until ${new Date(o.expires_at).toLocaleTimeString()}`) : null,
    h('label', {}, 'Card (sandbox: 4242 4242 4242 4242)', card),
    errorLine(),
    h('div', { class: 'row' }, h('button', { id: 'checkout-pay' }, 'Pay'),
      h('button', { type: 'button', class: 'link', onclick: () => d.close() }, 'Later')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/api/v1/orders/${orderId}/pay`, { method: 'POST', body: { card: card.value } });
      form.querySelector('#checkout-pay').disabled = true;
      form.querySelector('#checkout-error').textContent = 'Waiting for the payment provider…';
      for (let i = 0; i < 60; i++) {
        const now = await api(`/api/v1/orders/${orderId}`);
        if (now.state === 'paid') return confirmation(d, now);
        if (now.payment === 'failed') throw new Error('The card was declined. Try another card.');
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error('The payment is still pending; your orders page will show when it lands.');
    } catch (err) {
      form.querySelector('#checkout-pay').disabled = false;
      showError(d, err);
    }
  });
  d.replaceChildren(form);
}

function confirmation(d, o) {
  d.replaceChildren(h('div', { class: 'stack', id: 'checkout-done' },
    h('h2', {}, 'Thank you!'),
    h('p', {}, `Order ${o.id} is paid: ${o.total}, sold by ${o.seller.name}.`),
    h('a', { href: '/orders' }, 'Your orders'),
    h('button', { onclick: () => d.close() }, 'Back to the show')));
}
