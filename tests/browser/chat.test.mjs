// Drives example-chat's page in Chromium: `node chat.test.mjs http://127.0.0.1:PORT`.
//
// Three pages (separate browser contexts, like three people): Ada and Bob join the lobby,
// see each other's messages, and one asks the other to leave: the other refuses in the
// dialog, then agrees. Cy joins the kitchen and hears nothing from the lobby. Ada calls the
// roll three times: Bob answers no, then yes, then lets the prompt answer yes by itself; Cy
// is never asked (no `here` frame reaches her page). Bob moves to the kitchen and then hears
// the kitchen only. Then `CONTROL restart` has the Rust test replace the server with a new,
// empty one on the same port, and every page reconnects and rejoins its room under its name
// by itself. Run by examples/chat/tests/browser.rs. Saves target/artifacts/chat-*.png.

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

/** The roll call panel of `page`: who is listed under each answer. */
function rollCall(page) {
  const names = (answer) =>
    page.getByRole('list', { name: answer, exact: true }).locator('li[data-name]').evaluateAll((lis) => lis.map((li) => li.dataset.name));
  return {
    button: page.getByRole('button', { name: 'Roll call', exact: true }),
    /** Waits until a result is shown (not "asking…"), then reads it. */
    async result() {
      await page.locator('#rollcall:not([aria-busy]) #rollcall-result:not([hidden])').waitFor({ timeout: 15_000 });
      return { present: await names('Present'), away: await names('Away'), silent: await names('Silent') };
    },
  };
}

/** Counts the `here` requests the server sends to `page` (attach before the page loads). */
function countHere(page) {
  const seen = { here: 0 };
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      const text = typeof payload === 'string' ? payload : payload.toString('utf8');
      seen.here += (text.match(/"method"\s*:\s*"here"/g) ?? []).length;
    });
  });
  return seen;
}

/** Waits until the page's title names `name`'s room. */
async function inRoom(page, name) {
  await page.locator('#room-title', { hasText: new RegExp(`^# ${name}$`) }).waitFor();
}

/**
 * Proves that nothing was pushed to `page` but its own room's lines: `page` says `line` and
 * waits for it; the socket is ordered, so anything sent to it before has arrived by then.
 */
async function settle(page, name, line) {
  const said = await say(page, line);
  await said(name, line).waitFor();
}

function same(actual, expected, what) {
  assert(JSON.stringify(actual) === JSON.stringify(expected), `${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

async function open(page) {
  const res = await page.goto(`${base}/`);
  assert(res && res.status() === 200, `GET / answered ${res && res.status()}`);
  await page.locator('#status[data-state="open"]').waitFor();
}

async function join(page, name, roomName = undefined) {
  await page.getByLabel('Your name').fill(name);
  if (roomName !== undefined) await page.getByLabel('Room', { exact: true }).fill(roomName);
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
  const c = await newPage(base, { viewport });
  const ada = a.page;
  const bob = b.page;
  const cy = c.page;
  const asked = { ada: countHere(ada), bob: countHere(bob), cy: countHere(cy) };

  await check('the page loads, connects and offers to join', async () => {
    await open(ada);
    await open(bob);
    await open(cy);
    assert(await ada.getByRole('status', { name: 'Connection' }).textContent() === 'connected', 'the status does not say connected');
    assert(await ada.getByLabel('Room', { exact: true }).inputValue() === 'lobby', 'the room field does not offer the lobby');
    await ada.getByLabel('Your name').fill('Ada');
    await screenshot(ada, 'chat-join');
  });

  await check('Ada joins the lobby (the default) and is listed as you, once', async () => {
    await join(ada, 'Ada');
    await inRoom(ada, 'lobby');
    const me = room(ada).member('Ada');
    assert((await me.textContent()).includes('you'), 'Ada is not marked as you');
    await room(ada).system('Ada joined').waitFor();
    await ada.getByRole('list', { name: 'Rooms', exact: true }).locator('li[data-room="lobby"] [aria-current="true"]').waitFor();
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

  await check('Cy sees the lobby among the open rooms and joins the kitchen instead', async () => {
    // The list is asked for again when a field of the form gets the focus.
    await cy.getByLabel('Room', { exact: true }).fill('');
    const lobby = cy.getByRole('list', { name: 'Open rooms' }).getByRole('button', { name: 'Room lobby, 2 in it' });
    await lobby.waitFor();
    await lobby.click();
    assert(await cy.getByLabel('Room', { exact: true }).inputValue() === 'lobby', 'clicking the lobby did not fill in the room');
    await join(cy, 'Cy', '  kitchen ');
    await inRoom(cy, 'kitchen');
    await room(cy).system('Cy joined').waitFor();
    assert(await room(cy).member('Ada').count() === 0, 'Ada is listed in the kitchen');
    same(await room(cy).members.locator('li').evaluateAll((lis) => lis.map((li) => li.dataset.name)), ['Cy'], 'kitchen members');
  });

  await check('a line said in the lobby reaches the lobby only', async () => {
    await say(ada, 'Lobby only: the kitchen should not hear this.');
    await room(bob).message('Ada', 'Lobby only').waitFor();
    await settle(cy, 'Cy', 'Anyone in the kitchen?');
    assert(await room(cy).message('Ada', 'Lobby only').count() === 0, 'the kitchen got a lobby line');
    await settle(bob, 'Bob', 'Only lobby lines here.');
    assert(await room(bob).message('Cy', 'Anyone in the kitchen?').count() === 0, 'the lobby got a kitchen line');
  });

  const roll = rollCall(ada);
  const hereDialog = (page) => page.getByRole('dialog', { name: 'Roll call' });

  await check('a roll call asks the other lobby page, which answers no; the kitchen is not asked', async () => {
    const before = { ...asked.bob };
    await roll.button.click();
    const prompt = hereDialog(bob);
    await prompt.waitFor();
    assert((await prompt.textContent()).includes('Are you still here?'), 'the prompt does not ask');
    await bob.locator('#here-auto', { hasText: /Answering yes by itself in \d s\./ }).waitFor();
    await ada.locator('#roll-call', { hasText: 'Asking…' }).waitFor();
    shots.here = await screenshot(bob, 'chat-here-dialog');
    await prompt.getByRole('button', { name: 'No' }).click();
    await prompt.waitFor({ state: 'hidden' });
    const result = await roll.result();
    same(result, { present: ['Ada'], away: ['Bob'], silent: [] }, 'roll call');
    shots.rollcall = await screenshot(ada, 'chat-rollcall');
    // The caller was asked too, and its page said yes without a prompt.
    assert(await hereDialog(ada).count() === 0, 'the caller was prompted');
    assert(asked.ada.here === 1 && asked.bob.here === before.here + 1, `here requests: ${JSON.stringify(asked)}`);
    await settle(cy, 'Cy', 'Still quiet in the kitchen.');
    assert(asked.cy.here === 0, `the kitchen page was asked ${asked.cy.here} times`);
    assert(await hereDialog(cy).count() === 0, 'the kitchen page shows the prompt');
  });

  await check('a second roll call: Bob clicks yes', async () => {
    await roll.button.click();
    const prompt = hereDialog(bob);
    await prompt.waitFor();
    await prompt.getByRole('button', { name: 'Yes' }).click();
    await prompt.waitFor({ state: 'hidden' });
    same(await roll.result(), { present: ['Ada', 'Bob'], away: [], silent: [] }, 'roll call');
  });

  await check('a third roll call: Bob\'s prompt answers yes by itself', async () => {
    await roll.button.click();
    const prompt = hereDialog(bob);
    await prompt.waitFor();
    await ada.locator('#roll-call', { hasText: 'Asking…' }).waitFor();
    // Untouched, it counts down and says yes (5 s; the server would wait 8 s).
    await prompt.waitFor({ state: 'hidden', timeout: 8_000 });
    same(await roll.result(), { present: ['Ada', 'Bob'], away: [], silent: [] }, 'roll call');
    await settle(cy, 'Cy', 'Three roll calls and not one for me.');
    same([asked.ada.here, asked.bob.here, asked.cy.here], [3, 3, 0], 'here requests (Ada, Bob, Cy)');
  });

  await check('a roll call in the kitchen asks the kitchen only', async () => {
    const before = [asked.ada.here, asked.bob.here];
    await rollCall(cy).button.click();
    same(await rollCall(cy).result(), { present: ['Cy'], away: [], silent: [] }, 'kitchen roll call');
    await settle(ada, 'Ada', 'No roll call reached the lobby.');
    await settle(bob, 'Bob', 'None here either.');
    same([asked.ada.here, asked.bob.here, asked.cy.here], [...before, 1], 'here requests (Ada, Bob, Cy)');
    assert(await hereDialog(bob).count() === 0 && await hereDialog(ada).count() === 0, 'a lobby page was prompted');
  });

  await check('a bad room name is refused before Bob leaves the lobby', async () => {
    await bob.getByLabel('Another room').fill('r'.repeat(33));
    await bob.getByRole('button', { name: 'Go', exact: true }).click();
    await room(bob).error.filter({ hasText: 'That room name is too long (at most 32 characters).' }).waitFor();
    await inRoom(bob, 'lobby');
    assert(await room(ada).system('Bob left').count() === 0, 'Bob left the lobby anyway');
    await bob.getByLabel('Another room').fill('');
  });

  await check('Bob moves to the kitchen from the room list and hears the kitchen only', async () => {
    const rooms = bob.getByRole('list', { name: 'Rooms', exact: true });
    await bob.getByRole('button', { name: 'Refresh the rooms' }).click();
    const kitchen = rooms.getByRole('button', { name: /^Move to kitchen/ });
    await kitchen.waitFor();
    await kitchen.click();
    await inRoom(bob, 'kitchen');
    await room(bob).member('Cy').waitFor();
    await room(bob).member('Ada').waitFor({ state: 'detached' });
    // The kitchen's history, and nothing of the lobby's.
    await room(bob).message('Cy', 'Anyone in the kitchen?').waitFor();
    assert(await room(bob).message('Ada', 'Hello Bob!').count() === 0, 'the lobby history came along');
    await room(ada).system('Bob left').waitFor();
    await room(ada).member('Bob').waitFor({ state: 'detached' });
    await room(cy).system('Bob joined').waitFor();
    await room(cy).member('Bob').waitFor();
    await rooms.locator('li[data-room="kitchen"] [aria-current="true"]').waitFor();

    await settle(ada, 'Ada', 'Bob is gone from the lobby.');
    await say(bob, 'Hello kitchen!');
    await room(cy).message('Bob', 'Hello kitchen!').waitFor();
    await settle(bob, 'Bob', 'Only kitchen lines here.');
    assert(await room(bob).message('Ada', 'Bob is gone').count() === 0, 'Bob still hears the lobby');
    await settle(ada, 'Ada', 'Quiet lobby.');
    assert(await room(ada).message('Bob', 'Hello kitchen!').count() === 0, 'the lobby hears the kitchen');
    await screenshot(bob, 'chat-kitchen');
  });


  await check('dark mode and the side-by-side view', async () => {
    await say(cy, 'Welcome to the kitchen, Bob.');
    await room(bob).message('Cy', 'Welcome to the kitchen').waitFor();
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
    // The roll call: the caller's result next to the prompt on the other page.
    await sheet.setContent(`<body style="margin:0;display:flex;gap:12px;background:#9aa1ad">
      <img src="${url(shots.rollcall)}"><img src="${url(shots.here)}"></body>`);
    await sheet.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    await screenshot(sheet, 'chat-rollcall-side-by-side');
  });

  await check('no console errors and nothing loaded from elsewhere', async () => {
    const problems = [...a.problems, ...b.problems, ...c.problems];
    assert(problems.length === 0, problems.join('; '));
  });

  await check('after a server restart every page rejoins its room by itself', async () => {
    await control('restart');
    for (const page of [ada, bob, cy]) {
      await page.locator('#status[data-state="open"]').waitFor({ timeout: 20_000 });
    }
    // The new server has no history: each page's log starts over once it has rejoined, and
    // each room holds its returning members only.
    await room(ada).message('Ada', 'Hello Bob!').waitFor({ state: 'detached' });
    await room(bob).message('Cy', 'Anyone in the kitchen?').waitFor({ state: 'detached' });
    await room(cy).message('Cy', 'Anyone in the kitchen?').waitFor({ state: 'detached' });
    await inRoom(ada, 'lobby');
    await inRoom(bob, 'kitchen');
    await inRoom(cy, 'kitchen');
    await room(bob).member('Cy').waitFor();
    await room(cy).member('Bob').waitFor();
    await room(ada).system('Ada joined').waitFor();
    same(await room(ada).members.locator('li').evaluateAll((lis) => lis.map((li) => li.dataset.name)), ['Ada'], 'lobby members');
    await say(bob, 'Still in the kitchen after the restart.');
    await room(cy).message('Bob', 'Still in the kitchen after the restart.').waitFor();
    await settle(ada, 'Ada', 'Still in the lobby after the restart.');
    assert(await room(ada).message('Bob', 'Still in the kitchen').count() === 0, 'the lobby hears the kitchen after the restart');
    // The only console errors allowed: Chromium's own for refused reconnect attempts.
    const problems = [...a.problems, ...b.problems, ...c.problems].filter((p) => !/WebSocket connection to '.*' failed/.test(p));
    assert(problems.length === 0, problems.join('; '));
  });
}

await run(main, 110_000);
