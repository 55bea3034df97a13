// Drives volley's /docs page in Chromium: `node docs.test.mjs http://127.0.0.1:PORT`.
//
// The server must serve `Calculator` (add, ask, ...) and `Feeds` (subscribe_numbers,
// subscribe_ticks, sum_clicks, first_click) and declare the client traits `Browser` (confirm,
// tick) and `Pointer` (subscribe_clicks), as tests/docs_page.rs does. Exits 0 when every check
// passes; otherwise prints what failed and exits 1. Saves screenshots to target/artifacts/ (or
// $ARTIFACTS_DIR).

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OVERALL_MS = 60_000;
const STEP_MS = 10_000;
const base = (process.argv[2] || '').replace(/\/+$/, '');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.ARTIFACTS_DIR || resolve(here, '../../target/artifacts');

if (!/^https?:\/\//.test(base)) {
  console.error('usage: node docs.test.mjs http://HOST:PORT');
  process.exit(2);
}

let browser;
const overall = setTimeout(() => {
  console.error(`FAIL: the whole run took longer than ${OVERALL_MS / 1000} s`);
  process.exit(1);
}, OVERALL_MS);

let passed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    throw new Error(`${name}: ${e.message.split('\n')[0]}`, { cause: e });
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function main() {
  browser = await chromium.launch({
    executablePath,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  const external = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('blob:') && !url.startsWith(base.replace(/^http/, 'ws'))) external.push(url);
  });

  await check('the page loads and connects', async () => {
    const res = await page.goto(`${base}/docs`, { waitUntil: 'load' });
    assert(res && res.status() === 200, `GET /docs answered ${res && res.status()}`);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    const status = page.getByRole('status', { name: 'Connection' });
    assert((await status.textContent()).includes('connected'), 'the status does not say connected');
  });

  const doc = await page.evaluate(() => JSON.parse(document.getElementById('openrpc').textContent));

  await check('it lists add, ask and confirm in the right sections', async () => {
    for (const [name, side] of [['add', 'server'], ['ask', 'server'], ['confirm', 'client']]) {
      const card = page.locator(`[data-testid="method-${name}"][data-side="${side}"]`);
      await card.waitFor();
      await card.getByRole('heading', { name, exact: true }).waitFor();
    }
    assert(await page.locator('#client-methods [data-testid="method-confirm"]').count() === 1, 'confirm is not under Client methods');
    const tick = page.locator('[data-testid="method-tick"]');
    assert(await tick.getAttribute('data-kind') === 'notification', 'tick is not marked as a notification');
    assert((await tick.textContent()).includes('notification'), 'tick shows no notification badge');
    // The methods' policy from the contract.
    const ask = page.locator('[data-testid="method-ask"][data-side="server"]');
    assert(await ask.getByTestId('timeout').textContent() === 'timeout 30 s', 'ask shows no 30 s deadline');
    const add = page.locator('[data-testid="method-add"][data-side="server"]');
    assert(await add.getByTestId('idempotent').count() === 1, 'add is not marked idempotent');
    assert(await ask.getByTestId('idempotent').count() === 0, 'ask is marked idempotent');
  });

  await check('the raw JSON Schema shows on demand', async () => {
    const card = page.locator('[data-testid="method-add"]');
    const raw = card.getByTestId('raw-schema');
    assert(!(await raw.locator('pre').first().isVisible()), 'the raw schema is open before asking');
    await raw.locator('summary').click();
    await raw.locator('pre').first().waitFor({ state: 'visible' });
    const text = await raw.locator('pre').first().textContent();
    const shown = JSON.parse(text);
    assert('params' in shown && 'a' in shown.params && 'b' in shown.params, `unexpected raw schema ${text}`);
  });

  const method = page.getByLabel('Method', { exact: true });
  const editor = page.getByLabel('Params (JSON)');
  const callButton = page.getByRole('button', { name: 'Call', exact: true });
  const responses = (name) => page.locator(`#log [data-kind="response"][data-method="${name}"]`);
  const bodyOf = async (entry) => JSON.parse(await entry.locator('pre').textContent());

  await check('the params editor is filled from the schema', async () => {
    await method.selectOption('add');
    const value = JSON.parse(await editor.inputValue());
    assert(value && typeof value === 'object' && !Array.isArray(value), `params are not by name: ${JSON.stringify(value)}`);
    assert(Object.keys(value).join(',') === 'a,b', `params are ${JSON.stringify(value)}`);
    const add = doc.methods.find((m) => m.name === 'add');
    const schemaOf = (p) => {
      let s = p.schema;
      while (s && s.$ref) s = doc.components?.schemas?.[s.$ref.split('/').pop()];
      return s || {};
    };
    for (const p of add.params) {
      if (schemaOf(p).type === 'integer') assert(Number.isInteger(value[p.name]), `${p.name} is not an integer: ${JSON.stringify(value)}`);
    }
  });

  await check('it calls add with [1,2] and shows 3', async () => {
    await editor.fill('[1,2]');
    await callButton.click();
    const entry = responses('add').first();
    await entry.waitFor();
    assert((await entry.getAttribute('class')).includes('ok'), `add failed: ${await entry.textContent()}`);
    const result = await bodyOf(entry);
    assert(result === 3, `add returned ${JSON.stringify(result)}`);
  });

  const incoming = page.locator('[data-testid="incoming"][data-method="confirm"]');
  async function askAndAnswer(question, how) {
    await method.selectOption('ask');
    const prefilled = JSON.parse(await editor.inputValue());
    assert('question' in prefilled, `ask's params are ${JSON.stringify(prefilled)}`);
    await editor.fill(JSON.stringify({ question }));
    const before = await responses('ask').count();
    await callButton.click();
    const form = incoming.first();
    await form.waitFor();
    assert((await form.textContent()).includes(question), 'the confirm form does not show the question');
    await how(form);
    await incoming.first().waitFor({ state: 'detached' });
    const entry = responses('ask').nth(before);
    await entry.waitFor();
    return entry;
  }

  await check('it calls ask and answers confirm with false by hand', async () => {
    const entry = await askAndAnswer('Ship it?', async (form) => {
      const result = form.getByLabel(/^Result \(JSON\)/);
      assert(JSON.parse(await result.inputValue()) === true, 'the answer is not pre-filled from the result schema');
      await form.getByRole('button', { name: 'false', exact: true }).click();
      assert(await result.inputValue() === 'false', 'picking false did not fill the answer');
      await form.getByRole('button', { name: 'Send result' }).click();
    });
    assert((await entry.getAttribute('class')).includes('ok'), `ask failed: ${await entry.textContent()}`);
    assert(await bodyOf(entry) === false, `ask returned ${await entry.locator('pre').textContent()}`);
  });

  await check('another round: ask returns true', async () => {
    const entry = await askAndAnswer('Really ship it?', async (form) => {
      await form.getByLabel(/^Result \(JSON\)/).fill('true');
      await page.screenshot({ path: join(artifacts, 'docs.png') });
      await form.getByRole('button', { name: 'Send result' }).click();
    });
    assert(await bodyOf(entry) === true, `ask returned ${await entry.locator('pre').textContent()}`);
  });

  await check('answering with an error fails the ask', async () => {
    const entry = await askAndAnswer('Delete everything?', async (form) => {
      await form.getByRole('radio', { name: 'Error' }).check();
      await form.getByLabel('Error code').fill('4001');
      await form.getByLabel('Error message').fill('no way');
      await form.getByRole('button', { name: 'Send error' }).click();
    });
    assert((await entry.getAttribute('class')).includes('err'), `ask did not fail: ${await entry.textContent()}`);
  });

  await check('streams are listed with their items and names', async () => {
    const card = page.locator('[data-testid="method-subscribe_numbers"][data-side="server"]');
    assert(await card.getAttribute('data-kind') === 'stream', 'subscribe_numbers is not marked as a stream');
    assert((await card.locator('.badge.stream').textContent()) === 'stream', 'subscribe_numbers shows no stream badge');
    assert((await card.locator('.sig').textContent()).includes('→ stream of integer'), 'the signature does not say what it streams');
    const names = await card.getByTestId('stream-names').textContent();
    assert(names.includes('numbers') && names.includes('unsubscribe_numbers'), `the stream's names: ${names}`);
    // The unsubscribe method is told on its stream's card, not on one of its own.
    assert(await page.locator('[data-testid="method-unsubscribe_numbers"]').count() === 0, 'unsubscribe_numbers has a card');
    await card.screenshot({ path: join(artifacts, 'docs-stream-card.png') });
    const clicks = page.locator('#client-methods [data-testid="method-subscribe_clicks"]');
    assert(await clicks.getAttribute('data-kind') === 'stream', 'subscribe_clicks is not listed as a client stream');
    assert((await clicks.textContent()).includes('x'), 'the click item schema is not shown');
  });

  const subscribeButton = page.getByRole('button', { name: 'Subscribe', exact: true });
  const streamOf = (name, state) => page.locator(`[data-testid="stream"][data-method="${name}"]${state ? `[data-state="${state}"]` : ''}`);
  const itemCount = async (stream) => Number(await stream.getByTestId('item-count').getAttribute('data-n'));

  await check('it starts subscribe_numbers and watches every item until the end', async () => {
    await method.selectOption('subscribe_numbers');
    assert(await page.locator('#as-notification').isDisabled(), 'a stream can be sent as a notification');
    const prefilled = JSON.parse(await editor.inputValue());
    assert('from' in prefilled && 'count' in prefilled, `subscribe_numbers' params are ${JSON.stringify(prefilled)}`);
    await editor.fill('{"from": 1, "count": 5}');
    await subscribeButton.click();
    await streamOf('subscribe_numbers', 'finished').waitFor();
    const stream = streamOf('subscribe_numbers').first();
    assert(await itemCount(stream) === 5, `${await itemCount(stream)} items counted`);
    const items = await stream.getByTestId('items').locator('li pre').allTextContents();
    assert(items.join() === '1,2,3,4,5', `the items shown are ${items.join()}`);
    await page.locator('#log [data-kind="stream-end"][data-method="numbers"]').first().waitFor();
  });

  await check('it starts subscribe_ticks, watches items arrive, and stops it', async () => {
    await method.selectOption('subscribe_ticks');
    await editor.fill('{"every_ms": 20}');
    await subscribeButton.click();
    const stream = streamOf('subscribe_ticks', 'running').first();
    await stream.waitFor();
    // Past the 50 items kept on screen: the count goes on, the list does not.
    await page.waitForFunction(() => {
      const n = document.querySelector('[data-testid="stream"][data-method="subscribe_ticks"] [data-testid="item-count"]');
      return Number(n?.dataset.n) >= 60;
    });
    assert(await stream.getByTestId('items').locator('li').count() === 50, 'the item list is not capped at 50');
    const running = page.locator('#streams-count');
    assert(await running.textContent() === '1', `${await running.textContent()} streams running`);
    await page.screenshot({ path: join(artifacts, 'docs-streams.png') });
    await stream.getByRole('button', { name: 'Stop' }).click();
    await streamOf('subscribe_ticks', 'cancelled').waitFor();
    const stopped = await itemCount(streamOf('subscribe_ticks').first());
    const answer = responses('unsubscribe_ticks').first();
    await answer.waitFor();
    assert(await bodyOf(answer) === true, 'unsubscribe_ticks did not answer true');
    // A round trip later, no item was added.
    await method.selectOption('add');
    await editor.fill('[2, 2]');
    await callButton.click();
    await responses('add').nth(1).waitFor();
    assert(await itemCount(streamOf('subscribe_ticks').first()) === stopped, 'items kept coming after Stop');
  });

  const clickForm = page.locator('[data-testid="incoming"][data-method="subscribe_clicks"]');
  const servedStream = (state) => page.locator(`[data-testid="served-stream"][data-method="subscribe_clicks"]${state ? `[data-state="${state}"]` : ''}`);
  async function startClicks(call) {
    await method.selectOption(call);
    await callButton.click();
    const form = clickForm.first();
    await form.waitFor();
    await form.getByRole('button', { name: 'Start stream' }).click();
    await form.waitFor({ state: 'detached' });
    const running = servedStream('running').first();
    await running.waitFor();
    // The same panel whatever its state becomes.
    return page.locator(`[data-testid="served-stream"][data-method="subscribe_clicks"][data-id='${await running.getAttribute('data-id')}']`);
  }
  async function sendClick(served, click) {
    await served.getByLabel('Item (JSON)').fill(JSON.stringify(click));
    await served.getByRole('button', { name: 'Send item' }).click();
  }

  await check('it serves subscribe_clicks to the server by hand and ends it', async () => {
    const served = await startClicks('sum_clicks');
    const prefilled = JSON.parse(await served.getByLabel('Item (JSON)').inputValue());
    assert(Number.isInteger(prefilled.x) && Number.isInteger(prefilled.y), `the item is pre-filled with ${JSON.stringify(prefilled)}`);
    await sendClick(served, { x: 1, y: 2 });
    await sendClick(served, { x: 3, y: 4 });
    assert(await itemCount(served) === 2, 'two items sent, not counted');
    await served.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifacts, 'docs-served-stream.png') });
    await served.getByRole('button', { name: 'End stream' }).click();
    await servedStream('finished').first().waitFor();
    const entry = responses('sum_clicks').first();
    await entry.waitFor();
    assert(await bodyOf(entry) === 10, `sum_clicks returned ${await entry.locator('pre').textContent()}`);
  });

  await check('the server cancels a stream served by hand and the page answers', async () => {
    const served = await startClicks('first_click');
    await sendClick(served, { x: 5, y: 6 });
    const entry = responses('first_click').first();
    await entry.waitFor();
    const click = await bodyOf(entry);
    assert(click.x === 5 && click.y === 6, `first_click returned ${JSON.stringify(click)}`);
    // The server's unsubscribe_clicks is answered true and the stream stops.
    await servedStream('cancelled').first().waitFor();
    await page.locator('#log [data-kind="answer"][data-method="unsubscribe_clicks"]').first().waitFor();
    assert(await served.getByRole('button', { name: 'Send item' }).isDisabled(), 'a cancelled stream can still send items');
  });

  await check('the server\'s rpc.ping and tick reached the page', async () => {
    await page.locator('#log [data-kind="ping"]').first().waitFor();
    await page.locator('#log [data-kind="notification"][data-method="tick"]').first().waitFor();
  });

  await check('reconnect works', async () => {
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    await method.selectOption('add');
    await editor.fill('{"a": 40, "b": 2}');
    await callButton.click();
    await page.locator('#log [data-kind="response"][data-method="add"]').nth(2).waitFor();
    assert(await bodyOf(responses('add').nth(2)) === 42, 'add by name after reconnecting');
  });

  await check('no console errors and nothing loaded from elsewhere', async () => {
    assert(problems.length === 0, problems.join('; '));
    assert(external.length === 0, `external requests: ${external.join(', ')}`);
  });

  await page.screenshot({ path: join(artifacts, 'docs-full.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(artifacts, 'docs-dark.png') });
}

mkdirSync(artifacts, { recursive: true });
try {
  await main();
  console.log(`${passed} passed, 0 failed`);
  await browser.close();
  clearTimeout(overall);
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  console.log(`${passed} passed, 1 failed`);
  if (browser) await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
  clearTimeout(overall);
  process.exit(1);
}
