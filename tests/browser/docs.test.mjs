// Drives volley's /docs page in Chromium: `node docs.test.mjs http://127.0.0.1:PORT`.
//
// The server must serve `Calculator` (add, ask, ...) and declare the client trait `Browser`
// (confirm, tick), as tests/docs_page.rs does. Exits 0 when every check passes; otherwise
// prints what failed and exits 1. Saves screenshots to target/artifacts/ (or $ARTIFACTS_DIR).

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
    await page.locator('#log [data-kind="response"][data-method="add"]').nth(1).waitFor();
    assert(await bodyOf(responses('add').nth(1)) === 42, 'add by name after reconnecting');
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
