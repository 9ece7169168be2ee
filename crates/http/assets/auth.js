import { api, h } from './app.js';

const signup = location.pathname.startsWith('/signup');
const next = new URLSearchParams(location.search).get('next') || (signup ? '/studio' : '/');
const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';
document.getElementById('heading').textContent = signup ? 'Create your account' : 'Log in';
document.getElementById('submit').textContent = signup ? 'Sign up' : 'Log in';
document.getElementById('form').querySelector('[name=password]').autocomplete = signup ? 'new-password' : 'current-password';
for (const el of document.querySelectorAll('[data-signup]')) el.hidden = !signup;
document.getElementById('switch').replaceChildren(
  signup ? h('a', { href: '/login' }, 'I have an account') : h('a', { href: '/signup' }, 'Create an account'),
);

document.getElementById('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const err = document.getElementById('error');
  err.textContent = '';
  try {
    if (signup) {
      await api('/api/v1/accounts', {
        method: 'POST',
        body: {
          email: f.get('email'),
          password: f.get('password'),
          display_name: f.get('display_name') || f.get('email').split('@')[0],
          role: f.get('streamer') ? 'streamer' : 'viewer',
        },
      });
    } else {
      await api('/api/v1/sessions', { method: 'POST', body: { email: f.get('email'), password: f.get('password') } });
    }
    location.href = signup && !f.get('streamer') ? '/' : safeNext;
  } catch (ex) {
    err.textContent = ex.message;
  }
});
