// Shared page helpers: API calls that surface problem+json, the signed-in account, the header.

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
    this.code = problem.code;
  }
}

// A random id this browser keeps: the risk engine links accounts that share a device.
export function deviceId() {
  try {
    let d = localStorage.getItem('hawker-device');
    if (!d) {
      d = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
      localStorage.setItem('hawker-device', d);
    }
    return d;
  } catch {
    return '';
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  const device = deviceId();
  if (device) headers['x-hawker-device'] = device;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(typeof data === 'object' ? data : { title: data }, res.status);
  return data;
}

// The signed-in account or null, asked once per page. /api/v1/session answers 200 either way,
// so a visitor's console stays free of 401s.
let meCache;
export function me() {
  if (meCache === undefined) {
    meCache = api('/api/v1/session').then((s) => (s && s.account) || null, () => null);
  }
  return meCache;
}

/** h('a', {href: '/'}, 'text', child...) */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function when(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

export async function renderHeader() {
  const nav = document.querySelector('header nav');
  if (!nav) return;
  const account = await me();
  nav.replaceChildren(
    ...(account
      ? [
          h('a', { href: '/studio' }, 'Studio'),
          h('a', { href: '/shop' }, 'Shop'),
          h('a', { href: '/orders' }, 'Orders'),
          h('a', { href: '/earnings' }, 'Earnings'),
          h('span', { class: 'who' }, account.display_name),
          h('button', {
            class: 'link',
            onclick: async () => {
              await api('/api/v1/sessions/current', { method: 'DELETE' });
              location.href = '/';
            },
          }, 'Log out'),
        ]
      : [h('a', { href: '/login' }, 'Log in'), h('a', { href: '/signup', class: 'button' }, 'Sign up')]),
  );
}

/** Follow notifications on pages without a room socket: "X is live now". */
export async function listenForNotifications() {
  if (!(await me())) return;
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const connect = (delay) => {
    const ws = new WebSocket(`${proto}://${location.host}/api/v1/notifications`);
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.t !== 'notify') return;
      const t = h('a', { class: 'toast', href: `/c/${f.channel}` }, `🔴 ${f.title} is live now`);
      document.body.append(t);
      setTimeout(() => t.remove(), 10000);
    };
    ws.onclose = () => setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
  };
  connect(1000);
}
