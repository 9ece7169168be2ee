// The live room in real Chromium: two browser contexts on one show. One signs up and
// comments; the other, anonymous, sees the comment arrive, the like counted, and itself
// counted as a viewer once its player plays. Usage: node room.mjs http://host/c/slug
import { launch, check } from './lib.mjs';

const url = process.argv[2];
const origin = new URL(url).origin;
const browser = await launch();
try {
  const watcher = await (await browser.newContext()).newPage();
  const talker = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage(); // a phone
  const errors = [];
  for (const p of [watcher, talker]) p.on('pageerror', (e) => errors.push(e.message));

  await watcher.goto(url);
  await watcher.waitForFunction(() => document.querySelector('#say-text').placeholder === 'Log in to chat', null, { timeout: 15000 });

  // Sign up on the phone, then come back to the show.
  const email = `talker${Date.now()}@example.com`;
  await talker.goto(`${origin}/signup?next=${encodeURIComponent(new URL(url).pathname)}`);
  await talker.fill('[name=display_name]', 'Phone Talker');
  await talker.fill('[name=email]', email);
  await talker.fill('[name=password]', 'correct horse battery');
  await talker.click('#submit');
  await talker.waitForURL(`${origin}/`);
  await talker.goto(url);
  await talker.waitForFunction(() => !document.querySelector('#say-text').disabled, null, { timeout: 15000 });

  const text = `Is the jade real? ${Date.now()}`;
  await talker.fill('#say-text', text);
  await talker.click('#say-send');
  await watcher.waitForFunction((t) => [...document.querySelectorAll('#comments li')].some((li) => li.textContent.includes(t)), text, { timeout: 10000 });
  const line = await watcher.evaluate((t) => [...document.querySelectorAll('#comments li')].find((li) => li.textContent.includes(t)).textContent, text);
  check(line.includes('Phone Talker'), `the comment carries its author's name (${line})`);

  // A like from the phone reaches the other viewer's counter.
  const before = Number(await watcher.textContent('#likes'));
  await talker.click('#like');
  await watcher.waitForFunction((b) => Number(document.querySelector('#likes').textContent) > b, before, { timeout: 10000 });

  // Both players play, so both count as viewers: the server delivers them media (their
  // playback tokens on the feed), within 10 s.
  await watcher.waitForFunction(() => /👁 [2-9]/.test(document.querySelector('#viewers').textContent), null, { timeout: 10000 });

  // Following from the phone.
  await talker.click('#follow');
  await talker.waitForFunction(() => document.querySelector('#follow').textContent.startsWith('Following'), null, { timeout: 10000 });

  check(errors.length === 0, `no page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ test: 'room', comment: 'delivered', likes: 'counted', viewers: await watcher.textContent('#viewers') }));
} finally {
  await browser.close();
}
