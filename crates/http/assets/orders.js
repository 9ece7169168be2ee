// The buyer's orders: state, seller of record, tracking, and what the buyer may do next.
import { api, h, me, renderHeader, when } from './app.js';

renderHeader();
const box = document.getElementById('orders');

const actions = {
  created: [['cancel', 'Cancel']],
  paid: [['cancel', 'Cancel']],
  shipped: [['confirm_delivery', 'I received it']],
  delivered: [['request_return', 'Return it']],
};

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

async function load() {
  if (!(await me())) {
    box.replaceChildren(h('p', {}, h('a', { href: '/login?next=/orders' }, 'Log in'), ' to see your orders.'));
    return;
  }
  const orders = await api('/api/v1/me/orders');
  if (!orders.length) {
    box.replaceChildren(h('p', { class: 'meta' }, 'No orders yet. Buy from a live show and they appear here.'));
    return;
  }
  box.replaceChildren(...orders.map((o) => h('div', { class: 'card', id: `order-${o.id}` },
    h('div', { class: 'row' },
      h('strong', { style: 'flex:1' }, `Order ${o.id}`),
      h('span', { class: `state ${o.state}` }, o.state.replace(/_/g, ' '))),
    o.items.map((i) => h('div', {}, `${i.quantity} × ${i.title} — ${i.unit_price}`)),
    h('div', {}, `Total ${o.total}`, o.discount && !/^\D*0([.,]0+)?$/.test(o.discount.trim()) ? ` (discount ${o.discount})` : ''),
    h('div', { class: 'meta' }, `Sold by ${o.seller.name} · ${when(o.created_at)}`),
    o.tracking ? h('div', { class: 'meta' }, `${o.carrier} ${o.tracking}`) : null,
    h('div', { class: 'row' }, (actions[o.state] || []).map(([a, label]) =>
      h('button', { class: 'secondary', onclick: () => act(o, a) }, label))))));
}
load();
