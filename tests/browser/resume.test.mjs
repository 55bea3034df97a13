// volley.js in Chromium through a proxy that cuts the connection at random moments, run by
// tests/browser_resume.rs: `node resume.test.mjs http://127.0.0.1:PORT`. The page calls
// `record(n)` 20 at a time and sends `note(n)` in order; the Rust test cuts the link while
// the calls run (`CONTROL cut-start` / `cut-stop`) and checks on the server that every
// call ran exactly once and every note arrived once, in order (`CONTROL check N`). Saves
// target/artifacts/resume.png.

import { STEP_MS, assert, baseUrl, check, control, launch, newPage, run, screenshot, within } from './harness.mjs';

const base = baseUrl('resume.test.mjs');
const CALLS = 300;

async function main() {
  await launch();
  const { page, problems } = await newPage(base, { viewport: { width: 900, height: 600 } });
  const inPage = (fn, arg, ms = STEP_MS) => within(ms, page.evaluate(fn, arg), 'page.evaluate');

  await check('the page connects through the proxy and gets a session', async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await inPage(async () => {
      window.peer = await volley.connect(WS_URL, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      window.seen = { resumed: 0, fresh: 0 };
      peer.addEventListener('reconnected', (e) => {
        if (e.detail.resumed) seen.resumed += 1;
        else seen.fresh += 1;
      });
    });
    // The hello arrives right after the socket opens.
    await page.waitForFunction(() => window.peer.session !== null);
    const session = await inPage(() => peer.session);
    assert(typeof session.id === 'string' && session.graceMs > 0, `session: ${JSON.stringify(session)}`);
  });

  await check(`${CALLS} calls and notes through random cuts each complete once`, async () => {
    await control('cut-start');
    const results = await inPage(async (calls) => {
      const results = [];
      for (let wave = 0; wave < calls / 20; wave += 1) {
        const batch = [];
        for (let k = 0; k < 20; k += 1) {
          const n = wave * 20 + k;
          batch.push(peer.call('record', [n]));
          peer.notify('note', [n]);
        }
        results.push(...(await Promise.all(batch)));
      }
      log(`${calls} calls answered; resumed ${seen.resumed} times, fresh ${seen.fresh}`);
      return results;
    }, CALLS, 60_000);
    await control('cut-stop');
    const wrong = results.map((r, n) => [n, r]).filter(([n, r]) => r !== n);
    assert(wrong.length === 0, `wrong answers: ${JSON.stringify(wrong.slice(0, 5))}`);
    const seen = await inPage(() => seen);
    assert(seen.resumed >= 1, `the session was never resumed: ${JSON.stringify(seen)}`);
    assert(seen.fresh === 0, `a reconnect lost the session: ${JSON.stringify(seen)}`);
  });

  await check('the server ran each call once and got each note once, in order', async () => {
    // A last call flushes what is queued behind it.
    await inPage(() => peer.call('record', [1_000_000]));
    await control(`check ${CALLS}`);
  });

  await screenshot(page, 'resume');
  // Chromium logs a console error for each handshake the proxy cuts; anything else counts.
  const real = problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
  assert(real.length === 0, `page problems: ${real.join('; ')}`);
}

run(main, 120_000);
