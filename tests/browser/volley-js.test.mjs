// Drives volley.js in Chromium against a volley server: `node volley-js.test.mjs http://127.0.0.1:PORT`.
//
// Run by tests/browser_e2e.rs, which serves volley-js.html at `/` next to a server offering
// add, ask, wait, find and log, sends every page `tick` notifications, and carries out
// `CONTROL stop` (shut the server down) and `CONTROL start` (serve again on the same port).
// Saves target/artifacts/volley-js.png.

import { STEP_MS, assert, baseUrl, check, control, launch, newPage, run, screenshot, within } from './harness.mjs';

const base = baseUrl('volley-js.test.mjs');

async function main() {
  await launch();
  const { page, problems } = await newPage(base, { viewport: { width: 900, height: 760 } });
  /** Runs `fn` in the page, with a deadline (page.evaluate has none of its own). */
  const inPage = (fn, arg) => within(STEP_MS, page.evaluate(fn, arg), 'page.evaluate');

  await check('the page imports /volley.js and connects', async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true' && window.peer.connected);
  });

  await check('add answers by name and by position', async () => {
    const sums = await inPage(async () => {
      const sums = [await peer.call('add', { a: 2, b: 40 }), await peer.call('add', [1, 2])];
      log(`add(2, 40) = ${sums[0]}, add(1, 2) = ${sums[1]}`);
      return sums;
    });
    assert(JSON.stringify(sums) === '[42,3]', `add returned ${JSON.stringify(sums)}`);
  });

  await check('remote errors reject with RpcError (code, message, data)', async () => {
    const errors = await inPage(async () => {
      const failed = async (method, params) => {
        try {
          return { result: await peer.call(method, params) };
        } catch (e) {
          return { isRpcError: e instanceof volley.RpcError, code: e.code, message: e.message, data: e.data };
        }
      };
      return [await failed('find', { name: 'nobody', strict: true }), await failed('no_such_method', {})];
    });
    const [notFound, missing] = errors;
    assert(notFound.isRpcError && notFound.code === 404 && notFound.message === 'not found' && notFound.data === 'nobody',
      `find: ${JSON.stringify(notFound)}`);
    assert(missing.isRpcError && missing.code === -32601, `unknown method: ${JSON.stringify(missing)}`);
  });

  await check('ask makes the server call confirm on the page, and relays its answer', async () => {
    const answers = await inPage(async () => {
      const answers = [await peer.call('ask', { question: 'yes, go on?' }), await peer.call('ask', { question: 'no, stop?' })];
      log(`ask(...) relayed the page's answers: ${answers.join(', ')}`);
      return answers;
    });
    assert(JSON.stringify(answers) === '[true,false]', `ask returned ${JSON.stringify(answers)}`);
    const questions = await inPage(() => seen.questions);
    assert(JSON.stringify(questions) === '["yes, go on?","no, stop?"]', `confirm saw ${JSON.stringify(questions)}`);
  });

  await check('tick notifications arrive in order', async () => {
    await page.waitForFunction(() => seen.ticks.length >= 3);
    const ticks = await inPage(() => seen.ticks);
    assert(ticks.every((n, i) => i === 0 || n === ticks[i - 1] + 1), `ticks ${JSON.stringify(ticks)}`);
  });

  await check('notify and batch', async () => {
    const outcome = await inPage(async () => {
      peer.notify('log', { msg: 'hello from the page' });
      const out = await peer.batch([
        { method: 'add', params: [20, 22] },
        { method: 'no_such_method' },
        { method: 'log', params: { msg: 'in a batch' }, notify: true },
      ]);
      return [out[0], out[1]?.error?.code, out[2]];
    });
    assert(outcome[0]?.result === 42, `batch add: ${JSON.stringify(outcome[0])}`);
    assert(outcome[1] === -32601, `batch error: ${outcome[1]}`);
    assert(outcome[2] === undefined, 'a notification has no outcome');
  });

  await check('calls in flight when the server dies reject with DisconnectedError', async () => {
    await inPage(() => {
      const settle = (p) => p.then(
        (result) => ({ result }),
        (e) => ({ name: e.name, isDisconnected: e instanceof volley.DisconnectedError, code: e.code, message: e.message }),
      );
      // Both stay unanswered: `wait` until released, `ask("hold")` until the page answers
      // confirm("hold"), which it never does.
      window.inflight = Promise.all([settle(peer.call('wait', { key: 7 })), settle(peer.call('ask', { question: 'hold' }))]);
      log('calling wait(7) and ask("hold"); neither will be answered');
    });
    // The server is inside ask (it called confirm), and a later call came back, so both
    // requests are in the server's hands.
    await page.waitForFunction(() => seen.held === 'waiting');
    await inPage(() => peer.call('add', [0, 0]));
    await control('stop');
    const [wait, ask] = await inPage(() => window.inflight);
    assert(wait.isDisconnected && wait.name === 'DisconnectedError', `wait ended with ${JSON.stringify(wait)}`);
    // ask's handler on the server is cut off too; a closing server drops it instead of
    // answering, so the page sees the disconnect, not a late error answer.
    assert(ask.isDisconnected && ask.name === 'DisconnectedError', `ask ended with ${JSON.stringify(ask)}`);
    await inPage((o) => log(`both rejected: ${o[0].name}, ${o[1].name}${o[1].code ? ` ${o[1].code}` : ''}`), [wait, ask]);
    await page.waitForFunction(() => seen.held === 'aborted');
  });

  await check('while the server is down, a call rejects at once with DisconnectedError', async () => {
    await page.waitForFunction(() => !peer.connected && seen.events.includes('close') && seen.events.includes('reconnecting'));
    const r = await inPage(async () => {
      const t0 = performance.now();
      try {
        await peer.call('add', [1, 2]);
        return { result: 'answered' };
      } catch (e) {
        const ms = performance.now() - t0;
        log(`add while down: ${e.name} after ${ms.toFixed(1)} ms`, true);
        return { isDisconnected: e instanceof volley.DisconnectedError, ms };
      }
    });
    assert(r.isDisconnected, `add while down: ${JSON.stringify(r)}`);
    assert(r.ms < 1000, `add while down took ${r.ms} ms to fail`);
  });

  await check('the server comes back on the same port and the page reconnects by itself', async () => {
    await control('start');
    await page.waitForFunction(() => seen.events.includes('reconnected') && peer.connected, null, { timeout: 15_000 });
    const again = await inPage(async () => {
      const r = [await peer.call('add', { a: 20, b: 22 }), await peer.call('ask', { question: 'yes, again?' })];
      log(`after reconnecting: add(20, 22) = ${r[0]}, ask = ${r[1]}`);
      return r;
    });
    assert(JSON.stringify(again) === '[42,true]', `after reconnecting: ${JSON.stringify(again)}`);
    const before = await inPage(() => seen.ticks.length);
    await page.waitForFunction((n) => seen.ticks.length >= n + 2, before);
    await screenshot(page, 'volley-js');
  });

  await check('no page errors; console errors only from the outage', async () => {
    // Chromium logs each refused reconnect attempt while the server is down.
    const unexpected = problems.filter((p) => !/WebSocket connection to '.*' failed/.test(p));
    assert(unexpected.length === 0, unexpected.join('; '));
  });
}

await run(main, 100_000);
