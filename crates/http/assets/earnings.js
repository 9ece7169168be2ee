// Earnings and statements: the caller's own accounts and those of organisations they manage
// (as seller and as agency), every statement line naming its ledger transaction and order.
import { api, h, me, renderHeader, when } from './app.js';

renderHeader();
const balances = document.getElementById('balances');
const select = document.getElementById('account');
const out = document.getElementById('statement');
const csv = document.getElementById('csv');
document.getElementById('print')?.addEventListener('click', () => window.print());

const digits = (c) => (c === 'XHC' || c === 'JPY' ? 0 : 2);
const money = (minor, c) => c === 'XHC'
  ? `${minor} coins`
  : `${(minor / 10 ** digits(c)).toFixed(digits(c))} ${c}`;

// Statement URLs per account: [label, base URL, purpose, currency].
const sources = [];

function table(title, accounts, base, extra = '') {
  if (!accounts.length) return h('p', { class: 'meta' }, `${title}: nothing yet.`);
  for (const a of accounts) {
    sources.push([`${title} — ${a.purpose.replace(/_/g, ' ')} (${a.currency})`, base, a.purpose, a.currency, extra]);
  }
  return h('div', { class: 'card' },
    h('strong', {}, title),
    h('div', { class: 'table-wrap' }, h('table', { class: 'ledger' },
      h('tr', {}, h('th', {}, 'Account'), h('th', { class: 'amount' }, 'Balance')),
      accounts.map((a) => h('tr', {},
        h('td', {}, `${a.purpose.replace(/_/g, ' ')} (${a.currency})`),
        h('td', { class: 'amount' }, money(a.balance_minor, a.currency)))))));
}

// A brand's paid slots: what each cost and what it sold.
function slotTable(name, slots) {
  const c = (r) => r.slot.currency;
  return h('div', { class: 'card' },
    h('strong', {}, `${name}: paid slots`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'ledger' },
      h('tr', {}, ['Slot', 'Show', 'State', 'Fee', 'Orders', 'GMV', 'Returns', 'Valid GMV', 'Commission', 'Fee refund', 'Claw-back', 'ROI', '']
        .map((t, i) => h('th', { class: i > 2 && i < 12 ? 'amount' : '' }, t))),
      slots.map((r) => h('tr', {},
        h('td', {}, String(r.slot.id)),
        h('td', {}, String(r.slot.show)),
        h('td', {}, r.slot.state.replace(/_/g, ' ')),
        h('td', { class: 'amount' }, money(r.slot.fee_minor, c(r))),
        h('td', { class: 'amount' }, String(r.orders)),
        h('td', { class: 'amount' }, money(r.gmv_minor, c(r))),
        h('td', { class: 'amount' }, `${money(r.returned_minor, c(r))} (${(r.return_rate_bps / 100).toFixed(1)}%)`),
        h('td', { class: 'amount' }, money(r.valid_gmv_minor, c(r))),
        h('td', { class: 'amount' }, money(r.commission_minor, c(r))),
        h('td', { class: 'amount' }, money(r.fee_refund_minor, c(r))),
        h('td', { class: 'amount' }, money(r.clawback_minor, c(r))),
        h('td', { class: 'amount' }, `${(r.roi_bps / 10000).toFixed(2)}×`),
        h('td', {}, h('a', { href: `/api/v1/slots/${r.slot.id}/report?format=csv` }, 'CSV')))))));
}

function url(i, format) {
  const [, base, purpose, currency, extra] = sources[i];
  return `${base}?purpose=${purpose}&currency=${currency}${extra}${format ? `&format=${format}` : ''}`;
}

async function statement() {
  const i = Number(select.value);
  if (!sources[i]) return;
  csv.href = url(i, 'csv');
  const s = await api(url(i));
  out.replaceChildren(
    h('p', { class: 'meta' }, `${sources[i][0]} · account ${s.account} · net ${money(s.net_minor, sources[i][3])}`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'ledger' },
      h('tr', {}, h('th', {}, 'When'), h('th', {}, 'What'), h('th', {}, 'Order / gift / slot'),
        h('th', {}, 'Ledger transaction'), h('th', { class: 'amount' }, 'Amount')),
      s.lines.map((l) => h('tr', {},
        h('td', {}, when(l.at)),
        h('td', {}, l.kind.replace(/_/g, ' ')),
        h('td', {}, l.order ? `order ${l.order}` : l.gift ? `gift ${l.gift}` : l.slot ? `slot ${l.slot}` : l.batch ? `batch ${l.batch}` : ''),
        h('td', {}, `${l.transaction} · ${l.posting_key}`),
        h('td', { class: 'amount' }, money(l.amount_minor, sources[i][3])))))));
}

async function load() {
  const account = await me();
  if (!account) {
    balances.replaceChildren(h('p', {}, h('a', { href: '/login?next=/earnings' }, 'Log in'), ' to see your earnings.'));
    return;
  }
  const mine = await api('/api/v1/me/earnings');
  const parts = [table('You', mine.accounts, '/api/v1/me/statement')];
  if (account.role === 'platform_admin') {
    const platform = await api('/api/v1/admin/ledger');
    parts.push(table('Platform', platform.accounts, '/api/v1/admin/statement'));
    parts.push(h('p', { class: 'meta' }, `Every currency sums to: ${Object.entries(platform.totals_minor).map(([c, t]) => `${t} ${c}`).join(', ') || 'nothing yet'} (a balanced ledger: zero).`));
  }
  for (const k of mine.agency_contracts) {
    parts.push(h('p', { class: 'meta' }, `Agency contract: organisation ${k.agency} takes ${k.share_bps / 100}% of your earnings since ${when(k.starts_at)}.`));
  }
  for (const org of await api('/api/v1/me/orgs')) {
    try {
      const e = await api(`/api/v1/orgs/${org.id}/earnings`);
      const seller = e.accounts.filter((a) => a.party.kind === 'org');
      const agency = e.accounts.filter((a) => a.party.kind === 'agency');
      parts.push(table(`${org.name} (seller)`, seller, `/api/v1/orgs/${org.id}/statement`, '&as=org'));
      if (agency.length) parts.push(table(`${org.name} (agency)`, agency, `/api/v1/orgs/${org.id}/statement`, '&as=agency'));
      const slots = await api(`/api/v1/orgs/${org.id}/slots`);
      if (slots.length) parts.push(slotTable(org.name, slots));
    } catch {
      // Not an owner or manager there: not theirs to see.
    }
  }
  balances.replaceChildren(...parts);
  select.replaceChildren(...sources.map(([label], i) => h('option', { value: String(i) }, label)));
  select.closest('.row').hidden = !sources.length;
  if (sources.length) statement();
  else out.replaceChildren(h('p', { class: 'meta' }, 'No statement yet: it starts with your first paid order or gift.'));
}

document.getElementById('show').onclick = statement;
load();
