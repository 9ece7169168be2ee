// The ops console: review queues, the fraud queue with each show's signals and evidence,
// complaints with deadlines, defect claims to decide, guardian claims, and the audit log.
// Every action is a call to the admin API, which checks the role and audits it.
import { api, h, me, when, renderHeader } from './app.js';
import { REMEDIES, claimNotes, photoStrip, stateBadge } from './claims.js';

renderHeader();
const $ = (id) => document.getElementById(id);

function act(label, fn, cls = 'secondary') {
  const b = h('button', { type: 'button', class: cls }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await fn();
      await load();
    } catch (e) {
      alert(e.message);
      b.disabled = false;
    }
  });
  return b;
}

async function load() {
  const account = await me();
  if (!account || account.role !== 'platform_admin') {
    $('gate').hidden = false;
    $('gate').replaceChildren(h('p', {}, 'The ops console is for platform admins. ', h('a', { href: '/login?next=/ops' }, 'Log in')));
    return;
  }
  $('app').hidden = false;
  const [ids, risk, complaints, disputed, unanswered, claims, audit] = await Promise.all([
    api('/api/v1/admin/trust/identity'),
    api('/api/v1/admin/trust/risk'),
    api('/api/v1/admin/trust/complaints'),
    api('/api/v1/admin/defect-claims?state=disputed'),
    api('/api/v1/admin/defect-claims?state=open'),
    api('/api/v1/admin/trust/guardian-claims'),
    api('/api/v1/admin/trust/audit'),
  ]);
  $('identity').replaceChildren(...ids.checks.map((c) => h('tr', { 'data-check': String(c.id) },
    h('td', { 'data-label': 'Submitted' }, when(c.submitted_at)),
    h('td', { 'data-label': 'Account' }, c.email || `#${c.account}`),
    h('td', { 'data-label': 'Legal name' }, c.legal_name),
    h('td', { 'data-label': 'ID' }, c.id_number),
    h('td', { 'data-label': 'Born (age)' }, `${c.birth_date} (${c.age})`, c.guardian_consent ? h('div', { class: 'meta' }, `guardian: ${c.guardian_name}`) : ''),
    h('td', { 'data-label': 'Document' }, c.has_document ? h('a', { href: `/api/v1/admin/trust/identity/${c.id}/document`, target: '_blank' }, 'open') : '—'),
    h('td', { 'data-label': 'Flags' }, c.same_identity_accounts.length ? `same identity as ${c.same_identity_accounts.join(', ')}` : ''),
    h('td', { 'data-label': '' },
      act('Approve', () => api(`/api/v1/admin/trust/identity/${c.id}/review`, { method: 'POST', body: { approve: true } }), 'primary'),
      act('Reject', () => {
        const reason = prompt('Reason the applicant can act on');
        if (!reason) throw new Error('a rejection needs a reason');
        return api(`/api/v1/admin/trust/identity/${c.id}/review`, { method: 'POST', body: { approve: false, reason } });
      })),
  )));
  if (!ids.checks.length) $('identity').replaceChildren(h('tr', {}, h('td', { colspan: '8' }, 'Nothing waiting.')));
  $('risk').replaceChildren(...risk.shows.map((s) => h('tr', { 'data-show': String(s.show), 'data-hold': String(s.hold) },
    h('td', { 'data-label': 'Show' }, s.title || `#${s.show}`, h('div', { class: 'meta' }, `${s.flagged_orders} orders flagged`)),
    h('td', { 'data-label': 'Score', class: s.hold ? 'held' : 'clear' }, s.score.toFixed(2), s.hold ? ' · held' : ''),
    h('td', { 'data-label': 'State' }, s.state),
    h('td', { 'data-label': 'Signals and evidence', class: 'wide' }, h('ul', { class: 'signals' }, ...(s.signals || []).filter((g) => g.score > 0.05).map((g) => h('li', {}, `${g.name} ${g.score.toFixed(2)}: ${g.evidence}`)))),
    h('td', { 'data-label': '' }, s.state === 'open'
      ? [act('Clear (release)', () => api(`/api/v1/admin/trust/risk/${s.show}/review`, { method: 'POST', body: { decision: 'cleared' } })),
         act('Confirm fake sales', () => api(`/api/v1/admin/trust/risk/${s.show}/review`, { method: 'POST', body: { decision: 'confirmed' } }), 'primary')]
      : ''),
  )));
  $('complaints').replaceChildren(...complaints.complaints.map((c) => h('tr', {},
    h('td', { 'data-label': 'Deadline', class: c.overdue ? 'held' : '' }, when(c.deadline_at)),
    h('td', { 'data-label': 'Against' }, `${c.target_kind} #${c.target_id}`),
    h('td', { 'data-label': 'Reason' }, c.reason),
    h('td', { 'data-label': 'Details', class: 'wide' }, c.details),
    h('td', { 'data-label': '' },
      act('Uphold', () => api(`/api/v1/admin/trust/complaints/${c.id}/resolve`, { method: 'POST', body: { uphold: true, outcome: prompt('Outcome') || 'upheld', refund: !!c.order } }), 'primary'),
      act('Dismiss', () => api(`/api/v1/admin/trust/complaints/${c.id}/resolve`, { method: 'POST', body: { uphold: false, outcome: prompt('Outcome') || 'dismissed' } }))),
  )));
  const defects = [...disputed.claims, ...unanswered.claims];
  $('defect-claims').replaceChildren(...(defects.length
    ? defects.map((c) => h('tr', { 'data-claim': String(c.id), 'data-state': c.state },
      h('td', { 'data-label': 'Filed' }, when(c.created_at), h('div', { class: 'meta' }, `deadline ${when(c.deadline)}`)),
      h('td', { 'data-label': 'Order' }, String(c.order)),
      h('td', { 'data-label': 'What is wrong', class: 'wide' }, h('div', { class: 'claim-text' }, c.description)),
      h('td', { 'data-label': 'Photos' }, photoStrip(c)),
      h('td', { 'data-label': 'State and notes' }, stateBadge(c),
        c.state === 'disputed' && !c.seller_note ? h('div', { class: 'meta' }, 'The seller gave no reason.') : null,
        claimNotes(c)),
      h('td', { 'data-label': '' }, decideBox(c))))
    : [h('tr', {}, h('td', { colspan: '6' }, 'Nothing to decide.'))]));
  $('claims').replaceChildren(...claims.claims.map((c) => h('tr', {},
    h('td', { 'data-label': 'Filed' }, when(c.created_at)),
    h('td', { 'data-label': 'Minor' }, `#${c.minor}`),
    h('td', { 'data-label': 'Evidence', class: 'wide' }, c.evidence),
    h('td', { 'data-label': 'Gifts' }, `${c.gifts.length} gifts, ${c.gifts.reduce((a, g) => a + g.coins, 0)} coins`),
    h('td', { 'data-label': '' },
      act('Approve refund', () => api(`/api/v1/admin/trust/guardian-claims/${c.id}/decide`, { method: 'POST', body: { approve: true } }), 'primary'),
      act('Reject', () => api(`/api/v1/admin/trust/guardian-claims/${c.id}/decide`, { method: 'POST', body: { approve: false, reason: prompt('Reason') || '' } }))),
  )));
  $('audit').replaceChildren(...audit.entries.slice(0, 50).map((e) => h('li', {}, `${when(e.at)} · ${e.action} · ${e.subject} ${e.detail ? '· ' + e.detail : ''}`)));
}

load();

/** Uphold (with a remedy) or reject a defect claim; the note, the decision's reason, is required. */
function decideBox(c) {
  const remedy = h('select', { name: 'remedy' }, Object.entries(REMEDIES).map(([v, label]) => h('option', { value: v }, label)));
  const note = h('textarea', { name: 'note', rows: '2', maxlength: '1000', required: true, placeholder: 'The reason (the buyer and the seller read it)' });
  const error = h('div', { class: 'error' });
  const decide = async (body, button) => {
    error.textContent = '';
    if (!note.value.trim()) {
      error.textContent = 'A decision needs its reason in the note.';
      note.focus();
      return;
    }
    button.disabled = true;
    try {
      await api(`/api/v1/admin/defect-claims/${c.id}/decide`, { method: 'POST', body: { ...body, note: note.value.trim() } });
      await load();
    } catch (e) {
      error.textContent = e.message;
      button.disabled = false;
    }
  };
  const uphold = h('button', { type: 'button', class: 'primary', 'data-action': 'uphold' }, 'Uphold');
  const reject = h('button', { type: 'button', class: 'secondary', 'data-action': 'reject' }, 'Reject');
  uphold.addEventListener('click', () => decide({ decision: 'uphold', remedy: remedy.value }, uphold));
  reject.addEventListener('click', () => decide({ decision: 'reject' }, reject));
  return h('div', { class: 'stack claim-answer' },
    h('label', {}, 'Remedy if upheld', remedy),
    h('label', {}, 'Note', note),
    h('div', { class: 'row' }, uphold, reject),
    error);
}
