// The API reference: reads /api/openapi.json and lists its operations by tag — method, path,
// summary, parameters, request body and answers with their schema names. Every string from the
// document goes in as text (h() makes text nodes), never as HTML.
import { h, renderHeader } from './app.js';

renderHeader();
const box = document.getElementById('ops');
const intro = document.getElementById('intro');
const filter = document.getElementById('filter');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

// A schema, briefly: its component name, `[T]` for arrays, or its type.
function schemaName(s) {
  if (!s) return '';
  if (s.$ref) return s.$ref.split('/').pop();
  if (s.type === 'array') return `[${schemaName(s.items)}]`;
  for (const k of ['oneOf', 'anyOf', 'allOf']) {
    if (Array.isArray(s[k])) return s[k].map(schemaName).filter(Boolean).join(' | ');
  }
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return s.type || 'any';
}

function contents(content) {
  return Object.entries(content || {}).map(([type, c]) => `${type}${c.schema ? ` ${schemaName(c.schema)}` : ''}`);
}

function operation(method, path, op) {
  const params = (op.parameters || []).map((p) => h('li', {},
    h('code', {}, p.name), ` (${p.in}${p.required ? ', required' : ''}) `, schemaName(p.schema),
    p.description ? ` — ${p.description}` : ''));
  const body = op.requestBody
    ? h('div', {}, h('strong', {}, 'Body: '), contents(op.requestBody.content).join(', ') || 'any')
    : null;
  const answers = Object.entries(op.responses || {}).map(([status, r]) => h('li', {},
    h('code', {}, status), ' ', r.description || '',
    contents(r.content).length ? ` — ${contents(r.content).join(', ')}` : ''));
  const secured = (op.security || []).some((s) => Object.keys(s).length) ?
    ((op.security || []).some((s) => !Object.keys(s).length) ? 'login optional' : 'login required') : 'public';
  return h('details', { class: 'card', 'data-text': `${method} ${path} ${op.summary || ''} ${(op.tags || []).join(' ')}`.toLowerCase() },
    h('summary', {},
      h('span', { class: 'pill' }, method.toUpperCase()), ' ', h('code', {}, path), ' ',
      h('span', { class: 'meta' }, op.summary || '')),
    op.description ? h('p', {}, op.description) : null,
    h('p', { class: 'meta' }, secured, ' · ', h('code', {}, op.operationId || '')),
    params.length ? h('div', {}, h('strong', {}, 'Parameters'), h('ul', {}, params)) : null,
    body,
    h('div', {}, h('strong', {}, 'Answers'), h('ul', {}, answers)));
}

async function load() {
  let doc;
  try {
    const r = await fetch('/api/openapi.json');
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    doc = await r.json();
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error' }, `Could not load the API document: ${e.message}`));
    return;
  }
  intro.replaceChildren(`${doc.info?.title || 'API'} ${doc.info?.version || ''} · OpenAPI ${doc.openapi}`);
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const tag = (item[m].tags || ['other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(m, path, item[m]));
    }
  }
  box.replaceChildren(...[...byTag.keys()].sort().map((tag) => h('section', { 'data-tag': tag },
    h('h2', {}, tag, ' ', h('span', { class: 'meta' }, `(${byTag.get(tag).length})`)),
    byTag.get(tag))));
}

filter.addEventListener('input', () => {
  const q = filter.value.trim().toLowerCase();
  for (const section of box.querySelectorAll('section')) {
    let shown = 0;
    for (const d of section.querySelectorAll('details')) {
      const hit = !q || d.dataset.text.includes(q);
      d.hidden = !hit;
      if (hit) shown += 1;
    }
    section.hidden = shown === 0;
  }
});

load();
