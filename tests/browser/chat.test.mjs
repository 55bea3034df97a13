// Drives example-chat's page in Chromium: `node chat.test.mjs http://127.0.0.1:PORT`.
//
// Two pages (separate browser contexts, like two people) join the room, see each other's
// messages, and one asks the other to leave: the other refuses in the dialog, then agrees.
// Then `CONTROL restart` has the Rust test replace the server with a new, empty room on the
// same port, and both pages reconnect and rejoin under their names by themselves.
// Run by examples/chat/tests/browser.rs. Saves target/artifacts/chat-*.png.

import { assert, baseUrl, check, control, launch, newPage, run, screenshot } from './harness.mjs';

const base = baseUrl('chat.test.mjs');

/** About half of a laptop screen: two of these side by side. */
const viewport = { width: 760, height: 720 };

function room(page) {
  return {
    log: page.getByRole('list', { name: 'Messages' }),
    members: page.getByRole('list', { name: 'Members' }),
    message: (from, text) =>
      page.getByRole('list', { name: 'Messages' }).locator(`li[data-kind="message"][data-from="${from}"]`, { hasText: text }),
    system: (text) => page.getByRole('list', { name: 'Messages' }).locator('li[data-kind="system"]', { hasText: text }),
    member: (name) => page.getByRole('list', { name: 'Members' }).locator(`li[data-name="${name}"]`),
    input: page.getByLabel('Message', { exact: true }),
    error: page.locator('#say-error'),
  };
}

async function open(page) {
  const res = await page.goto(`${base}/`);
  assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
  await page.locator('#status[data-state="open"]').waitFor();
}

async function join(page, name) {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await room(page).member(name).waitFor();
}

async function say(page, text) {
  const { input, message } = room(page);
  await input.fill(text);
  await input.press('Enter');
  return message;
}

async function main() {
  await launch();
  const a = await newPage(base, { viewport });
  const b = await newPage(base, { viewport });
  const ada = a.page;
  const bob = b.page;

  await check('the page loads, connects and offers to join', async () => {
    await open(ada);
    await open(bob);
    assert(await ada.getByRole('status', { name: 'Connection' }).textContent() === 'connected', 'the status does not say connected');
    await ada.getByLabel('Your name').fill('Ada');
    await screenshot(ada, 'chat-join');
  });

  await check('Ada joins and is listed as you', async () => {
    await join(ada, 'Ada');
    const me = room(ada).member('Ada');
    assert((await me.textContent()).includes('you'), 'Ada is not marked as you');
    await room(ada).system('Ada joined').waitFor();
  });

  await check('a taken name is refused with the server\'s message', async () => {
    await bob.getByLabel('Your name').fill('ada');
    await bob.getByRole('button', { name: 'Join' }).click();
    await bob.getByRole('alert').filter({ hasText: 'Someone called Ada is already here.' }).waitFor();
    assert(await bob.locator('#room').isHidden(), 'the room opened anyway');
  });

  await check('Bob joins and both see both', async () => {
    await join(bob, 'Bob');
    await room(ada).system('Bob joined').waitFor();
    await room(ada).member('Bob').waitFor();
    await room(bob).member('Ada').waitFor();
    const history = room(bob).system('Ada joined');
    await history.waitFor();
  });

  await check('messages reach the other page with name and time', async () => {
    await say(ada, 'Hello Bob! Welcome to the room.');
    const got = room(bob).message('Ada', 'Hello Bob!');
    await got.waitFor();
    assert((await got.locator('.author').textContent()) === 'Ada', 'no author on the message');
    const time = await got.locator('time').getAttribute('datetime');
    assert(time && Math.abs(Date.parse(time) - Date.now()) < 60_000, `odd timestamp ${time}`);
    await ada.locator('li.msg.mine', { hasText: 'Hello Bob!' }).waitFor();

    await say(bob, 'Hi Ada! Two tabs, one socket each.');
    await room(ada).message('Bob', 'Two tabs, one socket each.').waitFor();
    await say(bob, 'The server pushes every line to both of us.');
    await say(ada, 'And when someone wants you out, it asks you first.');
    await room(bob).message('Ada', 'it asks you first').waitFor();
    await room(ada).message('Bob', 'pushes every line').waitFor();
  });

  await check('an over-long message is refused by the server and kept in the box', async () => {
    const { input, error } = room(ada);
    const long = 'x'.repeat(501);
    await input.fill(long);
    await ada.locator('#counter.over').waitFor();
    await input.press('Enter');
    await error.filter({ hasText: 'The message is too long (501 characters; at most 500).' }).waitFor();
    assert(await input.inputValue() === long, 'the refused text was lost');
    await input.fill('');
  });

  const shots = {};
  await check('screenshots of both pages', async () => {
    shots.ada = await screenshot(ada, 'chat-ada');
    shots.bob = await screenshot(bob, 'chat-bob');
  });

  await check('Ada asks Bob to leave; Bob refuses in the dialog', async () => {
    await ada.getByRole('button', { name: 'Ask Bob to leave' }).click();
    await ada.getByRole('button', { name: 'Ask Bob to leave' }).filter({ hasText: 'Asking…' }).waitFor();
    const dialog = bob.getByRole('dialog');
    await dialog.waitFor();
    assert((await dialog.textContent()).includes('Ada asks you to leave the room.'), 'the dialog does not say who asks');
    shots.dialog = await screenshot(bob, 'chat-kick-dialog');
    await dialog.getByRole('button', { name: 'Stay' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await room(ada).system('Bob refused to leave').waitFor();
    await room(bob).system('Bob refused to leave').waitFor();
    await ada.getByRole('button', { name: 'Ask Bob to leave' }).filter({ hasText: 'Kick' }).waitFor();
    assert(await room(ada).member('Bob').count() === 1, 'Bob was removed although he refused');
  });

  await check('Ada asks again; Bob agrees and is removed', async () => {
    await ada.getByRole('button', { name: 'Ask Bob to leave' }).click();
    const dialog = bob.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Leave the room' }).click();
    await bob.getByText('You left the room at Ada\'s request.').waitFor();
    await bob.getByLabel('Your name').waitFor();
    await room(ada).system('Bob agreed to leave and was removed by Ada').waitFor();
    await room(ada).member('Bob').waitFor({ state: 'detached' });
    shots.after = await screenshot(ada, 'chat-after-kick');
  });

  await check('Bob comes back and gets the history', async () => {
    await bob.getByRole('button', { name: 'Join' }).click();
    await room(bob).member('Bob').waitFor();
    await room(bob).message('Ada', 'Hello Bob!').waitFor();
    await room(bob).system('Bob agreed to leave').waitFor();
    await room(ada).system('Bob joined').nth(1).waitFor();
  });


  await check('dark mode and the side-by-side view', async () => {
    await say(bob, 'Back again.');
    await room(ada).message('Bob', 'Back again.').waitFor();
    await ada.emulateMedia({ colorScheme: 'dark' });
    await screenshot(ada, 'chat-dark');
    await ada.emulateMedia({ colorScheme: 'light' });

    // Both pages next to each other, as two tabs side by side would look.
    const { readFileSync } = await import('node:fs');
    const url = (path) => `data:image/png;base64,${readFileSync(path).toString('base64')}`;
    const { page: sheet } = await newPage(base, { viewport: { width: viewport.width * 2 + 12, height: viewport.height } });
    await sheet.setContent(`<body style="margin:0;display:flex;gap:12px;background:#9aa1ad">
      <img src="${url(shots.ada)}"><img src="${url(shots.dialog)}"></body>`);
    await sheet.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    await screenshot(sheet, 'chat-side-by-side');
  });

  await check('no console errors and nothing loaded from elsewhere', async () => {
    const problems = [...a.problems, ...b.problems];
    assert(problems.length === 0, problems.join('; '));
  });

  await check('after a server restart both pages rejoin by themselves', async () => {
    await control('restart');
    for (const [page, other] of [[ada, 'Bob'], [bob, 'Ada']]) {
      await page.locator('#status[data-state="open"]').waitFor({ timeout: 20_000 });
      // The new room is empty but for these two: the history starts over.
      await room(page).member(other).waitFor();
      await room(page).message('Ada', 'Hello Bob!').waitFor({ state: 'detached' });
    }
    await say(ada, 'Still here after the restart.');
    await room(bob).message('Ada', 'Still here after the restart.').waitFor();
    // The only console errors allowed: Chromium's own for refused reconnect attempts.
    const problems = [...a.problems, ...b.problems].filter((p) => !/WebSocket connection to '.*' failed/.test(p));
    assert(problems.length === 0, problems.join('; '));
  });
}

await run(main, 110_000);
