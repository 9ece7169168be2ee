// The merchant console: catalog, the live show's shelf and pins, flash sales, orders and
// fulfilment. Everything goes through the same JSON API the tests use.
import { api, h, me, renderHeader, when } from './app.js';
import { loadWebhooks } from './webhooks.js';
import { loadClaims } from './claims.js';
import { loadLeads } from './leads.js';

renderHeader();
const $ = (id) => document.getElementById(id);
let orgs = [];
let products = [];

const next = {
  paid: [['ship', 'Ship'], ['cancel', 'Cancel']],
  created: [['cancel', 'Cancel']],
  shipped: [['deliver', 'Mark delivered']],
  return_requested: [['approve_return', 'Approve return'], ['reject_return', 'Reject return']],
  return_approved: [['receive_return', 'Goods received']],
  return_received: [['refund', 'Refund']],
};

function org() {
  return orgs.find((o) => String(o.id) === $('org').value);
}

async function start() {
  const account = await me();
  if (!account) {
    $('gate').hidden = false;
    $('gate').replaceChildren(h('a', { href: '/login?next=/shop' }, 'Log in'), ' to manage your shop.');
    return;
  }
  orgs = await api('/api/v1/me/orgs');
  if (!orgs.length) {
    $('gate').hidden = false;
    const form = h('form', { class: 'stack' },
      h('p', {}, 'Open a shop to sell in your shows.'),
      h('label', {}, 'Shop name', h('input', { name: 'name', required: true })),
      h('label', { class: 'notice' }, h('input', { type: 'checkbox', name: 'individual', checked: true }), ' I sell as an individual'),
      h('button', {}, 'Open shop'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await api('/api/v1/orgs', { method: 'POST', body: { name: form.elements.name.value, individual: form.elements.individual.checked } });
      location.reload();
    });
    $('gate').replaceChildren(form);
    return;
  }
  $('app').hidden = false;
  $('org').replaceChildren(...orgs.map((o) => h('option', { value: o.id }, `${o.name} (${o.role.replace('_', ' ')})`)));
  const channels = await api('/api/v1/me/channels');
  $('channel').replaceChildren(...channels.map((c) => h('option', { value: c.slug }, c.title)));
  $('org').addEventListener('change', loadOrg);
  $('channel').addEventListener('change', loadShow);
  await Promise.all([loadOrg(), loadShowFilter(channels)]);
}

async function loadOrg() {
  const o = org();
  products = await api(`/api/v1/orgs/${o.id}/products`);
  $('products').replaceChildren(
    h('tr', {}, h('th', {}, 'Product'), h('th', {}, 'Variants'), h('th', {}, 'Returns')),
    ...products.map((p) => h('tr', {},
      h('td', {}, p.title, p.regulated ? h('span', { class: 'chip' }, 'regulated') : null),
      h('td', {}, p.skus.map((s) => h('div', {}, `${s.label}: ${s.price} · stock ${s.stock ?? '—'}`))),
      h('td', {}, p.return_class.replace('_', ' ')))));
  $('sale-sku').replaceChildren(...products.flatMap((p) => p.skus.map((s) => h('option', { value: s.id }, `${p.title} — ${s.label} (${s.price})`))));
  orders.offset = 0;
  resetCouponForm();
  await Promise.all([loadShow(), loadOrders(), loadCredentials(), loadCoupons(), loadWebhooks(org()), loadClaims(org()), loadLeads(org(), products)]);
}

async function loadShow() {
  const slug = $('channel').value;
  if (!slug) {
    $('show').textContent = 'You have no channel yet: create one in the studio.';
    return;
  }
  const c = await api(`/api/v1/channels/${encodeURIComponent(slug)}`);
  const show = c.current_show || (await api(`/api/v1/channels/${encodeURIComponent(slug)}/shows`)).find((s) => s.state !== 'ended');
  if (!show) {
    $('show').textContent = 'No live or upcoming show on this channel.';
    $('shelf').replaceChildren();
    return;
  }
  $('show').textContent = `${show.title} · ${show.state}`;
  const shelf = await api(`/api/v1/shows/${show.id}/shelf`);
  const onShelf = new Map(shelf.map((p) => [p.id, p]));
  const form = h('form', { class: 'stack', id: 'shelf-form' },
    products.map((p) => h('div', { class: 'row' },
      h('label', { class: 'notice', style: 'flex:1;color:inherit' },
        h('input', { type: 'checkbox', name: 'p', value: p.id, checked: onShelf.has(p.id) }), ` ${p.title}`,
        onShelf.get(p.id)?.paid_promotion ? h('span', { class: 'chip ad' }, onShelf.get(p.id).label) : null),
      // Disclosure of the entry: paid promotion, and the host's own word on having used it.
      h('label', { class: 'meta' }, h('input', { type: 'checkbox', name: 'sponsored', value: p.id, checked: !!onShelf.get(p.id)?.showcase_sponsored }), ' paid promotion'),
      h('label', { class: 'meta' }, h('input', { type: 'checkbox', name: 'host_used', value: p.id, checked: !!onShelf.get(p.id)?.host_used }), ' I have used it'),
      onShelf.has(p.id)
        ? h('button', { type: 'button', class: 'secondary', 'data-pin': p.id, onclick: async () => {
            try {
              await api(`/api/v1/shows/${show.id}/pins`, { method: 'POST', body: { product: p.id } });
              $('show').textContent = `${show.title} · pinned ${p.title}`;
            } catch (err) {
              $('show').textContent = err.message;
            }
          } }, 'Pin')
        : null)),
    h('div', { class: 'error', id: 'shelf-error' }),
    h('button', { id: 'shelf-save' }, 'Save shelf'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const checked = (name) => new Set([...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => Number(i.value)));
    const sponsored = checked('sponsored');
    const used = checked('host_used');
    const items = [...checked('p')].map((id) => ({ product: id, sponsored: sponsored.has(id), host_used: used.has(id) }));
    try {
      await api(`/api/v1/shows/${show.id}/shelf`, { method: 'PUT', body: { products: items } });
      loadShow();
    } catch (err) {
      $('shelf-error').textContent = err.message;
    }
  });
  $('shelf').replaceChildren(form);
}

// Credentials for regulated categories: uploaded here, reviewed by the platform's ops.
async function loadCredentials() {
  const list = await api(`/api/v1/orgs/${org().id}/credentials`);
  $('credentials').replaceChildren(
    h('tr', {}, h('th', {}, 'Category'), h('th', {}, 'State'), h('th', {}, 'Document')),
    ...list.map((c) => h('tr', {},
      h('td', {}, c.category),
      h('td', {}, c.state, c.reason ? h('div', { class: 'meta' }, c.reason) : null),
      h('td', {}, h('a', { href: c.document_url, target: '_blank' }, 'view')))));
}

$('new-credential').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const file = f.document.files[0];
  if (!file) return;
  const res = await fetch(`/api/v1/orgs/${org().id}/credentials?category=${encodeURIComponent(f.category.value)}`, {
    method: 'POST', headers: { 'content-type': file.type }, body: file, credentials: 'same-origin',
  });
  const body = await res.json();
  $('credential-error').textContent = res.ok ? 'Uploaded: waiting for review.' : body.detail || body.title;
  loadCredentials();
});

// ---------------------------------------------------------------- orders: a page at a time
const PAGE = 25;
const orders = { offset: 0, shown: 0 };

function orderQuery() {
  const q = new URLSearchParams();
  const state = $('state-filter').value;
  const show = $('show-filter').value;
  const search = $('order-search').value.trim();
  if (state) q.set('state', state);
  if (show) q.set('show', show);
  if (search) q.set('q', search);
  return q;
}

// The shows of the caller's channels that can have orders, newest first, for the filter.
async function loadShowFilter(channels) {
  const lists = await Promise.all(channels.map((c) =>
    api(`/api/v1/channels/${encodeURIComponent(c.slug)}/shows`).catch(() => [])));
  const shows = lists.flat()
    .filter((s) => s.state === 'live' || s.state === 'ended')
    .sort((a, b) => (b.started_at || 0) - (a.started_at || 0));
  $('show-filter').replaceChildren(h('option', { value: '' }, 'all shows'),
    ...shows.map((s) => h('option', { value: String(s.id) },
      `${s.title}${s.started_at ? ` · ${when(s.started_at)}` : ''}${s.state === 'live' ? ' · live' : ''}`)));
}

async function loadOrders() {
  const o = org();
  const q = orderQuery();
  const csv = new URLSearchParams(q);
  csv.set('format', 'csv');
  $('csv').href = `/api/v1/orgs/${o.id}/orders?${csv}`;
  q.set('limit', String(PAGE + 1)); // one more than shown: is there an older page?
  q.set('offset', String(orders.offset));
  let list;
  try {
    list = await api(`/api/v1/orgs/${o.id}/orders?${q}`);
  } catch (e) {
    $('orders').replaceChildren(h('tr', {}, h('td', { class: 'error' }, e.message)));
    return;
  }
  const more = list.length > PAGE;
  const page = list.slice(0, PAGE);
  orders.shown = page.length;
  const td = (label, ...children) => h('td', { 'data-label': label, class: label === 'Items' ? 'wide' : undefined }, ...children);
  $('orders').replaceChildren(
    h('tr', {}, h('th', {}, 'Order'), h('th', {}, 'Items'), h('th', {}, 'Total'), h('th', {}, 'State'), h('th', {}, '')),
    ...page.map((x) => h('tr', { id: `morder-${x.id}` },
      td('Order', String(x.id), h('div', { class: 'meta' }, when(x.created_at))),
      td('Items', x.items.map((i) => h('div', {}, `${i.quantity} × ${i.title}`)),
        h('div', { class: 'meta' }, [x.address?.name, x.address?.line1, x.address?.city].filter(Boolean).join(', '))),
      td('Total', x.total),
      td('State', h('span', { class: `state ${x.state}` }, x.state.replace(/_/g, ' ')),
        x.tracking ? h('div', { class: 'meta' }, [x.carrier, x.tracking].filter(Boolean).join(' ')) : null),
      td('', x.state === 'return_requested' && (x.return_reason || '').startsWith('defect:')
        // A defect claim is answered in the claims panel, not by the plain return steps.
        ? h('span', { class: 'meta' }, 'Defect claim: answer it under Defect claims')
        : (next[x.state] || []).map(([a, label]) => h('button', { class: 'secondary', onclick: () => act(x, a) }, label))))),
  );
  if (!page.length) {
    $('orders').append(h('tr', {}, h('td', { colspan: '5', class: 'empty' },
      orders.offset ? 'No older orders.' : 'No orders match.')));
  }
  $('orders-range').textContent = page.length
    ? `Orders ${orders.offset + 1}–${orders.offset + page.length}${more ? '' : ' (the oldest)'}`
    : '';
  $('orders-prev').disabled = orders.offset === 0;
  $('orders-next').disabled = !more;
}

function reloadOrders() {
  orders.offset = 0;
  loadOrders();
}
let searchTimer;
$('order-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(reloadOrders, 300);
});
$('state-filter').addEventListener('change', reloadOrders);
// An answered defect claim moves its order (refunded, or a return approved).
document.addEventListener('claim-answered', () => loadOrders());
$('show-filter').addEventListener('change', reloadOrders);
$('orders-prev').addEventListener('click', () => {
  orders.offset = Math.max(0, orders.offset - PAGE);
  loadOrders();
});
$('orders-next').addEventListener('click', () => {
  orders.offset += PAGE;
  loadOrders();
});

// ---------------------------------------------------------------- coupons
function money(minor, currency) {
  const digits = currency === 'JPY' || currency === 'KRW' ? 0 : 2;
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

function discountText(c) {
  const d = c.discount || {};
  if (d.kind === 'percent') return `${(d.basis_points / 100).toFixed(d.basis_points % 100 ? 2 : 0)}% off`;
  if (d.kind === 'fixed') return `${money(d.minor, c.currency)} off`;
  return '—';
}

const couponActions = {
  active: [['pause', 'Pause'], ['end', 'End']],
  scheduled: [['pause', 'Pause'], ['end', 'End']],
  spent: [['pause', 'Pause'], ['end', 'End']],
  paused: [['resume', 'Resume'], ['end', 'End']],
  ended: [],
};

async function loadCoupons() {
  const o = org();
  let list;
  try {
    list = (await api(`/api/v1/orgs/${o.id}/coupons`)).coupons || [];
  } catch (e) {
    // Coupons are for the shop's owners and catalog managers.
    $('coupons-panel').hidden = e.status === 403;
    $('coupon-error').textContent = e.status === 403 ? '' : e.message;
    return;
  }
  $('coupons-panel').hidden = false;
  if (!list.length) {
    $('coupons').replaceChildren(h('tr', {}, h('td', { class: 'empty' }, 'No coupons yet: create one below.')));
    return;
  }
  const td = (label, ...children) => h('td', { 'data-label': label }, ...children);
  $('coupons').replaceChildren(
    h('tr', {}, h('th', {}, 'Code'), h('th', {}, 'Discount'), h('th', {}, 'Budget used'), h('th', {}, 'Uses'),
      h('th', {}, 'Valid'), h('th', {}, 'Status'), h('th', {}, '')),
    ...list.map((c) => h('tr', { 'data-coupon': String(c.id), 'data-code': c.code, 'data-status': c.status },
      td('Code', h('strong', {}, c.code), c.scope === 'stream' ? h('div', { class: 'meta' }, 'live shows only') : null),
      td('Discount', discountText(c)),
      td('Budget used', `${money(c.spent_minor, c.currency)} of ${money(c.budget_minor, c.currency)}`),
      td('Uses', String(c.redemptions ?? 0)),
      td('Valid', `${when(c.valid_from)} – ${when(c.valid_to)}`),
      td('Status', h('span', { class: `state coupon-${c.status}` }, c.status)),
      td('', h('div', { class: 'row' }, (couponActions[c.status] || []).map(([action, label]) =>
        h('button', { type: 'button', class: 'secondary', 'data-action': action, onclick: () => changeCoupon(c, action) }, label)))))),
  );
}

async function changeCoupon(c, action) {
  if (action === 'end' && !confirm(`End ${c.code} for good? Buyers can no longer use it.`)) return;
  $('coupon-error').textContent = '';
  try {
    await api(`/api/v1/orgs/${org().id}/coupons/${c.id}/${action}`, { method: 'POST', body: {} });
  } catch (e) {
    $('coupon-error').textContent = e.message;
  }
  loadCoupons();
}

// A datetime-local value in the browser's time zone.
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function resetCouponForm() {
  const f = $('new-coupon').elements;
  f.valid_from.value = localInput(Date.now());
  f.valid_to.value = localInput(Date.now() + 7 * 86400000);
  const currency = products[0]?.currency;
  if (currency && [...f.currency.options].some((o) => o.value === currency)) f.currency.value = currency;
}

$('new-coupon').elements.kind.addEventListener('change', (e) => {
  const percent = e.target.value === 'percent';
  const amount = $('new-coupon').elements.amount;
  $('coupon-amount-label').textContent = percent ? 'Percent off (0.01–90)' : 'Amount off (minor units, e.g. cents)';
  amount.step = percent ? '0.01' : '1';
  amount.min = percent ? '0.01' : '1';
  amount.max = percent ? '90' : '';
});

$('new-coupon').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const amount = Number(f.amount.value);
  const discount = f.kind.value === 'percent'
    ? { kind: 'percent', basis_points: Math.round(amount * 100) }
    : { kind: 'fixed', minor: Math.round(amount) };
  const body = {
    code: f.code.value.trim(), discount, currency: f.currency.value,
    budget_minor: Number(f.budget_minor.value), scope: f.scope.value,
    valid_from: new Date(f.valid_from.value).getTime(), valid_to: new Date(f.valid_to.value).getTime(),
  };
  if (body.scope === 'stream' && $('channel').value) body.channel = $('channel').value;
  try {
    await api(`/api/v1/orgs/${org().id}/coupons`, { method: 'POST', body });
    e.target.reset();
    resetCouponForm();
    $('coupon-error').textContent = `Coupon ${body.code.toUpperCase()} created.`;
    loadCoupons();
  } catch (err) {
    $('coupon-error').textContent = err.message;
  }
});

async function act(o, action) {
  const body = { action };
  if (action === 'ship') {
    body.carrier = prompt('Carrier') || '';
    body.tracking = prompt('Tracking number') || '';
  }
  if (action === 'cancel' || action === 'reject_return') body.reason = prompt('Reason') || '';
  try {
    await api(`/api/v1/orders/${o.id}/fulfilment`, { method: 'POST', body });
  } catch (e) {
    alert(e.message);
  }
  loadOrders();
}

$('new-product').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  try {
    await api(`/api/v1/orgs/${org().id}/products`, { method: 'POST', body: {
      title: f.title.value, description: f.description.value, category: f.category.value,
      return_class: f.return_class.value, currency: f.currency.value,
      skus: [{ label: f.label.value, price_minor: Number(f.price_minor.value), stock: Number(f.stock.value) }],
    } });
    e.target.reset();
    loadOrg();
  } catch (err) {
    $('product-error').textContent = err.message;
  }
});

$('new-sale').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  try {
    const s = await api('/api/v1/flash-sales', { method: 'POST', body: {
      channel: $('channel').value, sku: Number(f.sku.value), price_minor: Number(f.price_minor.value),
      stock: Number(f.stock.value), per_buyer_limit: Number(f.per_buyer_limit.value),
      duration_s: Number(f.duration_s.value), countdown_s: Number(f.countdown_s.value),
    } });
    $('sale-error').textContent = `Flash sale ${s.id} announced: opens ${when(s.starts_at)}.`;
  } catch (err) {
    $('sale-error').textContent = err.message;
  }
});

resetCouponForm();
start();
