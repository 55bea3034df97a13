// Drives example-ping's page in Chromium: `node ping.test.mjs http://127.0.0.1:PORT`.
//
// The page connects and pings the server; this checks what a person would see: CONNECTED,
// SENT: ping, RECEIVED: pong. Run by examples/ping/tests/browser.rs. Saves
// target/artifacts/ping.png.

import { assert, baseUrl, check, launch, newPage, run, screenshot } from './harness.mjs';

const base = baseUrl('ping.test.mjs');

async function main() {
  await launch();
  const { page, problems } = await newPage(base, { viewport: { width: 900, height: 600 } });

  await check('the page loads', async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
  });

  await check('it connects, sends ping and receives pong', async () => {
    await page.getByText(/^\s*CONNECTED\s*$/).first().waitFor();
    await page.getByText(/SENT:\s*ping/).first().waitFor();
    await page.getByText(/RECEIVED:\s*pong/).first().waitFor();
    await screenshot(page, 'ping');
  });

  await check('no console errors and nothing loaded from elsewhere', async () => {
    assert(problems.length === 0, problems.join('; '));
  });
}

await run(main, 60_000);
