// Drives example-dashboard's page in Chromium: `node dashboard.test.mjs http://127.0.0.1:PORT`.
//
// The page subscribes to the server's `subscribe_load` stream and plots every sample; this
// checks what a person would see: the chart filling up, the numbers updating, Stop holding
// the chart still, Start resuming it, and a second tab counted as a connection. Run by
// examples/dashboard/tests/browser.rs. Saves target/artifacts/dashboard-*.png.

import { assert, baseUrl, check, launch, newPage, run, screenshot, STEP_MS } from './harness.mjs';

const base = baseUrl('dashboard.test.mjs');

/** The number of points drawn on the chart now. */
const points = (page) => page.locator('#chart').evaluate((c) => Number(c.dataset.points));
/** The number of samples received so far. */
const received = (page) => page.locator('#count').evaluate((e) => Number(e.textContent));

async function main() {
  await launch();
  const { page, problems } = await newPage(base, { viewport: { width: 1100, height: 760 } });

  await check('the page loads and goes live', async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
    await page.locator('#status[data-state="live"]').waitFor({ timeout: STEP_MS });
  });

  await check('samples arrive and the chart fills up', async () => {
    await page.waitForFunction(() => Number(document.querySelector('#chart').dataset.points) >= 4, null, { timeout: STEP_MS });
    const cpu = await page.locator('#cpu').textContent();
    assert(/^\d+(\.\d)?$/.test(cpu.trim()), `CPU shows ${cpu}`);
    const rss = await page.locator('#rss').textContent();
    assert(/MiB$/.test(rss.trim()), `memory shows ${rss}`);
    await screenshot(page, 'dashboard-live');
  });

  await check('a second tab counts as a connection', async () => {
    const other = await page.context().newPage();
    await other.goto(`${base}/`);
    await other.locator('#status[data-state="live"]').waitFor({ timeout: STEP_MS });
    await page.waitForFunction(() => document.querySelector('#connections').textContent.trim() === '2', null, { timeout: STEP_MS });
    await other.close();
    await page.waitForFunction(() => document.querySelector('#connections').textContent.trim() === '1', null, { timeout: STEP_MS });
  });

  await check('Stop holds the chart still', async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('#status[data-state="stopped"]').waitFor({ timeout: STEP_MS });
    const before = await received(page);
    // Instead of sleeping: open a stream of our own at 100 ms and take 8 samples (800 ms of
    // server time), longer than a 500 ms tick of the stream that should have stopped.
    await page.evaluate(async () => {
      const { connect } = await import('/volley.js');
      const peer = await connect('/ws');
      const probe = await peer.subscribe('subscribe_load', { interval_ms: 100 }, { item: 'load', unsubscribe: 'unsubscribe_load' });
      let n = 0;
      for await (const _ of probe) { n += 1; if (n === 8) break; }
      peer.close();
    });
    const after = await received(page);
    assert(after === before, `samples kept coming after Stop: ${before} -> ${after}`);
    await screenshot(page, 'dashboard-stopped');
  });

  await check('Start resumes it', async () => {
    const before = await received(page);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('#status[data-state="live"]').waitFor({ timeout: STEP_MS });
    await page.waitForFunction((n) => Number(document.querySelector('#count').textContent) >= n + 2, before, { timeout: STEP_MS });
    assert((await points(page)) >= 4, 'the chart kept its points');
    await screenshot(page, 'dashboard-resumed');
  });

  await check('no console errors and nothing loaded from elsewhere', async () => {
    assert(problems.length === 0, problems.join('; '));
  });
}

await run(main, 90_000);
