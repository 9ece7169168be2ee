// The merchant console: catalog, the live show's shelf and pins, flash sales, orders and
// fulfilment. Everything goes through the same JSON API the tests use.
import { api, h, me, renderHeader, when } from './app.js';

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
  $('state-filter').addEventListener('change', loadOrders);
  await loadOrg();
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
  $('csv').href = `/api/v1/orgs/${o.id}/orders?format=csv`;
  await Promise.all([loadShow(), loadOrders(), loadCredentials()]);
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

async function loadOrders() {
  const o = org();
  const state = $('state-filter').value;
  const orders = await api(`/api/v1/orgs/${o.id}/orders${state ? `?state=${state}` : ''}`);
  $('orders').replaceChildren(
    h('tr', {}, h('th', {}, 'Order'), h('th', {}, 'Items'), h('th', {}, 'Total'), h('th', {}, 'State'), h('th', {}, '')),
    ...orders.map((x) => h('tr', { id: `morder-${x.id}` },
      h('td', {}, String(x.id), h('div', { class: 'meta' }, when(x.created_at))),
      h('td', {}, x.items.map((i) => h('div', {}, `${i.quantity} × ${i.title}`)),
        h('div', { class: 'meta' }, [x.address.name, x.address.line1, x.address.city].filter(Boolean).join(', '))),
      h('td', {}, x.total),
      h('td', {}, h('span', { class: `state ${x.state}` }, x.state.replace(/_/g, ' ')), x.tracking ? h('div', { class: 'meta' }, `${x.carrier} ${x.tracking}`) : null),
      h('td', {}, (next[x.state] || []).map(([a, label]) => h('button', { class: 'secondary', onclick: () => act(x, a) }, label))))));
}

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

start();
