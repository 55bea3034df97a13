// Session resumption (PROTOCOL.md, "Session resumption") against a stand-in server that
// implements the server's side (test-support/session-server.js): the hello, counting,
// acknowledgements, replay, the bounded buffer, expiry, and plain connections with
// idempotent calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { connect, DisconnectedError, SessionExpiredError } from '../volley.js';
import { within, rejection, nextEvent, WebSocket } from '../test-support/helpers.js';
import { startSessionServer } from '../test-support/session-server.js';

const fastReconnect = { initialDelayMs: 10, maxDelayMs: 50, factor: 2 };

/** Options for these tests: the `ws` WebSocket, reconnect (so resumption) on, no heartbeat. */
function options(extra = {}) {
  return { WebSocket, heartbeat: false, reconnect: fastReconnect, ...extra };
}

/** A promise and its resolve. */
function deferred() {
  /** @type {(value?: any) => void} */
  let resolve = () => {};
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** Deferreds by key, made on first use by either side. */
function signals() {
  const map = new Map();
  return (key) => {
    if (!map.has(key)) map.set(key, deferred());
    return map.get(key);
  };
}

/** The `volley_*` and other query parameters of an upgrade's request URL. */
function query(path) {
  return new URL(path, 'http://x').searchParams;
}

/** The `n` of every `log` notification the server read on `session`, in order. */
function logs(session) {
  return session.inbox.filter((m) => m.method === 'log').map((m) => m.params.n);
}

/** 1..n */
function upTo(n) {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/**
 * Cuts the session's socket (no close frame) and waits until the client has resumed it.
 * `whileDown` runs once the client has seen the loss.
 */
async function cutAndResume(peer, session, whileDown = () => {}) {
  const down = nextEvent(peer, 'close');
  const back = nextEvent(peer, 'reconnected');
  session.cut();
  session.dropIncoming = false;
  session.dropOutgoing = false;
  await down;
  whileDown();
  const { detail } = await back;
  assert.deepEqual(detail, { resumed: true }, 'the session resumed');
}

/** A `ws` WebSocket that records what volley.js does with it. */
function recordingWebSocket() {
  /** @type {Array<WebSocket & { sent: string[], closed: unknown[], terminated: number }>} */
  const sockets = [];
  class Recording extends WebSocket {
    constructor(url) {
      super(url);
      this.sent = [];
      this.closed = [];
      this.terminated = 0;
      sockets.push(this);
    }
    send(data, ...rest) {
      this.sent.push(String(data));
      super.send(data, ...rest);
    }
    close(...args) {
      this.closed.push(args);
      super.close(...args);
    }
    terminate() {
      this.terminated += 1;
      super.terminate();
    }
  }
  return { Recording, sockets };
}

test('a dial asks for a session in its query, keeping the URL\'s own, and the hello starts one', async () => {
  const server = await startSessionServer();
  const marked = deferred();
  let peer;
  try {
    peer = await within(
      connect(`${server.url}?room=a`, options({ token: 's3cret', handlers: { mark: () => marked.resolve() } })),
      'connect',
    );
    assert.equal(await within(peer.call('add', [1, 2]), 'add'), 3);
    const session = await server.session(0);
    // The server acknowledges the call; a notification behind the ack shows the client read it.
    await server.until(() => session.ackSent === 1, "the server's acknowledgement");
    session.notify('mark');
    await within(marked.promise, 'the mark');
    assert.deepEqual(peer.session, { id: session.id, graceMs: 30_000 });
    assert.equal(peer.url, `${server.url}?room=a&token=s3cret`, 'peer.url has no session parameters');
    const first = query(server.upgrades[0]);
    assert.equal(first.get('room'), 'a');
    assert.equal(first.get('token'), 's3cret');
    assert.equal(first.get('volley_session'), 'new');
    assert.equal(first.get('volley_resume_token'), null);

    await cutAndResume(peer, session);
    const second = query(server.upgrades[1]);
    assert.equal(second.get('room'), 'a');
    assert.equal(second.get('token'), 's3cret');
    assert.equal(second.get('volley_session'), session.id);
    assert.equal(second.get('volley_resume_token'), session.token);
    assert.equal(second.get('volley_received'), '2', 'two counted frames (the answer to add, the mark) received');
    assert.equal(peer.session?.id, session.id);
    assert.equal(server.sessions.length, 1);
    assert.equal(await within(peer.call('add', [2, 2]), 'add after the resume'), 4);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('calls in flight across repeated cuts are answered, each run exactly once', async () => {
  const server = await startSessionServer();
  let peer;
  try {
    peer = await within(connect(server.url, options()), 'connect');
    const session = await server.session(0);

    // Read by the server, answered while the socket is down: replayed by the server.
    const a = peer.call('gate', { key: 'a' });
    await server.until(() => server.runs('gate', 'a') === 1, 'gate a to run');
    await cutAndResume(peer, session, () => server.release('a'));
    assert.equal(await within(a, 'gate a'), 'a');

    // Lost in transit to the server: written again by the client on the resume.
    session.dropIncoming = true;
    const b = peer.call('gate', { key: 'b' });
    await server.until(() => session.lost === 1, 'gate b to be lost in transit');
    await cutAndResume(peer, session);
    await server.until(() => server.runs('gate', 'b') === 1, 'gate b to run after the resume');
    server.release('b');
    assert.equal(await within(b, 'gate b'), 'b');

    // The answer lost in transit to the client: written again by the server on the resume.
    const c = peer.call('gate', { key: 'c' });
    await server.until(() => server.runs('gate', 'c') === 1, 'gate c to run');
    session.dropOutgoing = true;
    server.release('c');
    await server.until(() => session.replay.some((f) => f.text.includes('"result":"c"')), 'the answer to gate c');
    await cutAndResume(peer, session);
    assert.equal(await within(c, 'gate c'), 'c');

    // Read by the server but not acknowledged: the client must not write them again.
    server.withholdAcks = true;
    const d = [1, 2, 3].map((k) => peer.call('gate', { key: `d${k}` }));
    await server.until(() => server.runs('gate') === 6, 'gates d1-d3 to run');
    await cutAndResume(peer, session);
    server.withholdAcks = false;
    // And once more, with nothing in flight but those.
    await cutAndResume(peer, session);
    for (const k of [1, 2, 3]) server.release(`d${k}`);
    assert.deepEqual(await within(Promise.all(d), 'gates d1-d3'), ['d1', 'd2', 'd3']);
    assert.equal(await within(peer.call('add', [20, 22]), 'add'), 42);

    for (const key of ['a', 'b', 'c', 'd1', 'd2', 'd3']) {
      assert.equal(server.runs('gate', key), 1, `gate ${key} ran once`);
    }
    assert.equal(server.sessions.length, 1);
    assert.deepEqual(session.hellos.map((h) => h.resumed), [false, true, true, true, true, true]);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('server-to-client calls in flight survive cuts: handlers are not aborted, nor run twice', async () => {
  const server = await startSessionServer();
  const began = signals();
  const gates = signals();
  const started = [];
  const aborted = [];
  let peer;
  try {
    peer = await within(
      connect(
        server.url,
        options({
          handlers: {
            slow: ({ key }, { signal }) => {
              started.push(key);
              signal.addEventListener('abort', () => aborted.push(key));
              began(key).resolve();
              return gates(key).promise;
            },
          },
        }),
      ),
      'connect',
    );
    const session = await server.session(0);

    // Running on the client when the socket drops; it answers while the socket is down.
    const one = session.request('slow', { key: 1 });
    await within(began(1).promise, 'slow 1 to start');
    await cutAndResume(peer, session, () => gates(1).resolve('one'));
    assert.equal((await within(one, 'the answer to slow 1')).result, 'one');

    // Lost in transit to the client: written again by the server, run once.
    session.dropOutgoing = true;
    const two = session.request('slow', { key: 2 });
    await cutAndResume(peer, session);
    await within(began(2).promise, 'slow 2 to start');
    gates(2).resolve('two');
    assert.equal((await within(two, 'the answer to slow 2')).result, 'two');

    // The client's answer lost in transit: written again by the client.
    const three = session.request('slow', { key: 3 });
    await within(began(3).promise, 'slow 3 to start');
    session.dropIncoming = true;
    gates(3).resolve('three');
    await server.until(() => session.lost === 1, 'the answer to slow 3 to be lost');
    await cutAndResume(peer, session);
    assert.equal((await within(three, 'the answer to slow 3')).result, 'three');

    assert.deepEqual(started, [1, 2, 3], 'each ran once');
    assert.deepEqual(aborted, [], 'none was aborted');
    assert.deepEqual([...session.answers.values()], [1, 1, 1], 'each answer arrived once');
  } finally {
    peer?.close();
    await server.close();
  }
});

test('notifications both ways arrive once and in order across cuts', async () => {
  const server = await startSessionServer();
  const total = 40;
  const got = [];
  const allIn = deferred();
  let peer;
  try {
    peer = await within(
      connect(
        server.url,
        options({
          handlers: {
            note: ({ n }) => {
              got.push(n);
              if (got.length === total) allIn.resolve();
            },
          },
        }),
      ),
      'connect',
    );
    const session = await server.session(0);
    let up = 1;
    let down = 1;
    const clientSends = (k) => {
      for (let i = 0; i < k; i++) peer.notify('log', { n: up++ });
    };
    const serverSends = (k) => {
      for (let i = 0; i < k; i++) session.notify('note', { n: down++ });
    };

    // Some get through; the next ones are lost in transit both ways, then the socket drops.
    clientSends(5);
    serverSends(5);
    await server.until(() => logs(session).length === 5, 'the first 5 notifications');
    session.dropIncoming = true;
    session.dropOutgoing = true;
    clientSends(5);
    serverSends(5);
    await server.until(() => session.lost === 5, '5 notifications lost in transit');
    await cutAndResume(peer, session);

    // Sent both ways while the socket is down.
    await cutAndResume(peer, session, () => {
      clientSends(5);
      serverSends(5);
    });

    // Read but not acknowledged by the server when the socket drops.
    server.withholdAcks = true;
    clientSends(10);
    serverSends(10);
    await server.until(() => logs(session).length === 25, '25 notifications');
    await cutAndResume(peer, session);
    server.withholdAcks = false;

    clientSends(total - up + 1);
    serverSends(total - down + 1);
    await within(allIn.promise, `${total} notifications on the client`);
    await server.until(() => logs(session).length >= total, `${total} notifications on the server`);
    assert.deepEqual(logs(session), upTo(total));
    assert.deepEqual(got, upTo(total));
  } finally {
    peer?.close();
    await server.close();
  }
});

test('an expired session fails written calls with SessionExpiredError; never-written and idempotent calls go to the new session', async () => {
  const server = await startSessionServer();
  const slowStarted = deferred();
  const slowAborted = deferred();
  let peer;
  try {
    peer = await within(
      connect(
        server.url,
        options({
          handlers: {
            slow: (_params, { signal }) => {
              signal.addEventListener('abort', () => slowAborted.resolve(signal.reason));
              slowStarted.resolve();
              return new Promise(() => {});
            },
          },
        }),
      ),
      'connect',
    );
    const first = await server.session(0);
    const written = peer.call('hang');
    const again = peer.call('gate', { key: 'idem' }, { idempotent: true });
    first.request('slow');
    await server.until(() => server.runs('hang') === 1 && server.runs('gate', 'idem') === 1, 'hang and gate to run');
    await within(slowStarted.promise, 'slow to start on the client');

    // The server loses the session (its grace period passed, or it restarted) while the
    // client cannot reach it.
    server.refuse = true;
    const down = nextEvent(peer, 'close');
    first.cut();
    first.expire();
    await down;
    assert.equal(peer.session?.id, first.id, 'the client still has the session');
    const never = peer.call('add', [2, 3]);
    peer.notify('log', { n: 1 });
    const back = nextEvent(peer, 'reconnected');
    server.refuse = false;
    assert.deepEqual((await back).detail, { resumed: false });

    const err = await rejection(written, 'the call written on the expired session');
    assert.ok(err instanceof SessionExpiredError, String(err));
    assert.ok(!(err instanceof DisconnectedError));
    assert.equal(err.name, 'SessionExpiredError');
    assert.match(err.message, /call "hang" \(id \d+\) got no answer: the session expired/);
    const reason = await within(slowAborted.promise, 'the handler of the old session to be aborted');
    assert.ok(reason instanceof SessionExpiredError);

    assert.equal(await within(never, 'the call never written'), 5);
    const second = await server.session(1);
    assert.equal(peer.session?.id, second.id);
    assert.notEqual(second.id, first.id);
    assert.equal(query(server.upgrades[1]).get('volley_session'), first.id, 'the client asked to resume');
    await server.until(() => server.runs('gate', 'idem') === 2, 'the idempotent call to be sent again');
    server.release('idem');
    assert.equal(await within(again, 'the idempotent call'), 'idem');
    assert.deepEqual(
      second.inbox.map((m) => m.method),
      ['gate', 'add', 'log'],
      'the idempotent call first, then what was never written, in order',
    );
    assert.equal(server.runs('hang'), 1);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('a close frame from the server ends the session; so does close()', async () => {
  const server = await startSessionServer();
  let peer;
  try {
    peer = await within(connect(server.url, options()), 'connect');
    const first = await server.session(0);
    const pending = peer.call('hang');
    await server.until(() => server.runs('hang') === 1, 'hang to run');
    const back = nextEvent(peer, 'reconnected');
    const closed = nextEvent(peer, 'close');
    first.ws.close(1001, 'going away');
    const err = await rejection(pending, 'the call pending at the close frame');
    assert.ok(err instanceof DisconnectedError, String(err));
    assert.match(err.message, /code 1001: going away/);
    assert.deepEqual((await closed).detail, { code: 1001, reason: 'going away' });
    assert.deepEqual((await back).detail, { resumed: false });
    assert.equal(query(server.upgrades[1]).get('volley_session'), 'new', 'a new session');
    const second = await server.session(1);
    assert.equal(await within(peer.call('add', [1, 1]), 'add'), 2);
    assert.equal(peer.session?.id, second.id);

    peer.close();
    assert.equal(peer.session, null);
    await server.until(() => second.ended, 'the session to end on the server');
    assert.deepEqual(second.closes, [1000], 'close() sent a close frame');
  } finally {
    peer?.close();
    await server.close();
  }
});

test('a missed heartbeat drops the socket without a close frame, and the session resumes', async () => {
  const server = await startSessionServer({ answerPings: false });
  const { Recording, sockets } = recordingWebSocket();
  let peer;
  try {
    peer = await within(
      connect(server.url, options({ WebSocket: Recording, heartbeat: { intervalMs: 30, timeoutMs: 100 } })),
      'connect',
    );
    const session = await server.session(0);
    const closed = nextEvent(peer, 'close');
    const back = nextEvent(peer, 'reconnected');
    const pending = peer.call('gate', { key: 'hb' });
    await server.until(() => server.runs('gate', 'hb') === 1, 'gate to run');
    assert.deepEqual((await closed).detail, { code: 4000, reason: 'heartbeat timeout' });
    server.answerPings = true;
    assert.deepEqual((await back).detail, { resumed: true });
    assert.equal(sockets[0].terminated, 1, 'the socket was dropped');
    assert.deepEqual(sockets[0].closed, [], 'no close frame');
    server.release('hb');
    assert.equal(await within(pending, 'the call across the drop'), 'hb');
    assert.equal(server.runs('gate', 'hb'), 1);
    assert.equal(server.sessions.length, 1);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('without a session, an idempotent call in flight is sent again after the reconnect, up to 3 times', async () => {
  const server = await startSessionServer();
  let peer;
  try {
    peer = await within(connect(server.url, options({ resume: false })), 'connect');
    assert.equal(query(server.upgrades[0]).get('volley_session'), null, 'resume: false asks for no session');
    const first = await server.session(0);
    assert.equal(first.numbered, false);
    const idem = peer.call('gate', { key: 'i' }, { idempotent: true });
    const plain = peer.call('gate', { key: 'p' });
    await server.until(() => server.runs('gate') === 2, 'both gates to run');
    const back = nextEvent(peer, 'reconnected');
    first.cut();
    const err = await rejection(plain, 'the call that is not idempotent');
    assert.ok(err instanceof DisconnectedError);
    assert.deepEqual((await back).detail, { resumed: false });
    await server.until(() => server.runs('gate', 'i') === 2, 'the idempotent call to be sent again');
    server.release('i');
    assert.equal(await within(idem, 'the idempotent call'), 'i');
    assert.equal(server.runs('gate', 'p'), 1);

    // Sent again 3 times; the 4th drop fails it.
    const hang = peer.call('hang', undefined, { idempotent: true });
    for (let run = 1; run <= 4; run++) {
      await server.until(() => server.runs('hang') === run, `hang run #${run}`);
      /** @type {any} */ (server.executed.at(-1)).session.cut();
    }
    const last = await rejection(hang, 'the idempotent call after 3 resends');
    assert.ok(last instanceof DisconnectedError);
    assert.equal(server.runs('hang'), 4);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('a server without the extension (no hello) gives a plain connection', async () => {
  const server = await startSessionServer({ hello: false });
  const notes = [];
  const allIn = deferred();
  let peer;
  try {
    peer = await within(
      connect(
        server.url,
        options({
          handlers: {
            note: ({ n }) => {
              notes.push(n);
              if (notes.length === 40) allIn.resolve();
            },
          },
        }),
      ),
      'connect',
    );
    assert.equal(query(server.upgrades[0]).get('volley_session'), 'new', 'the client asked for a session');
    const first = await server.session(0);
    assert.equal(await within(peer.call('add', [1, 2]), 'add'), 3);
    assert.equal(peer.session, null);
    for (let n = 1; n <= 40; n++) first.notify('note', { n });
    await within(allIn.promise, '40 notifications');
    assert.deepEqual(await within(peer.call('echo', ['after']), 'echo'), ['after']);
    assert.ok(!first.frames.some((t) => t.includes('rpc.ack')), 'no acknowledgements on a plain connection');

    // A drop fails what is in flight, as without resumption.
    const pending = peer.call('hang');
    await server.until(() => server.runs('hang') === 1, 'hang to run');
    const back = nextEvent(peer, 'reconnected');
    first.cut();
    assert.ok((await rejection(pending, 'the call in flight')) instanceof DisconnectedError);
    assert.deepEqual((await back).detail, { resumed: false });
    assert.equal(await within(peer.call('add', [2, 2]), 'add after the reconnect'), 4);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('the replay buffer stays within maxReplayBytes while the server withholds acks', async () => {
  const server = await startSessionServer({ withholdAcks: true });
  const { Recording, sockets } = recordingWebSocket();
  const marked = signals();
  const bound = 1000;
  let peer;
  try {
    peer = await within(
      connect(
        server.url,
        options({ WebSocket: Recording, maxReplayBytes: bound, handlers: { mark: ({ n }) => marked(n).resolve() } }),
      ),
      'connect',
    );
    assert.equal(await within(peer.call('add', [1, 2]), 'add'), 3);
    const session = await server.session(0);
    const ws = /** @type {any} */ (sockets[0]);
    /** Counted frames the client wrote (everything but its acknowledgements). */
    const counted = () => ws.sent.filter((/** @type {string} */ t) => !t.includes('"method":"rpc.ack"'));
    let acked = 0;
    const unacked = () => counted().slice(acked).reduce((n, t) => n + Buffer.byteLength(t), 0);
    /** Acknowledges what the server read, and waits until the client has read the ack. */
    const ack = async (n) => {
      session.ack();
      acked = session.received;
      session.notify('mark', { n });
      await within(marked(n).promise, `the client to read ack #${n}`);
    };

    const pad = 'x'.repeat(80);
    for (let n = 1; n <= 50; n++) {
      peer.notify('log', { n, pad });
      assert.ok(unacked() <= bound, `${unacked()} bytes unacknowledged after notification ${n}`);
    }
    const first = counted().length;
    assert.ok(first < 51, 'the rest wait for an acknowledgement');
    await server.until(() => session.received === first, 'what the client wrote');
    assert.ok(logs(session).length < 50);

    await ack(1);
    assert.ok(counted().length > first, 'the acknowledgement let more out');
    assert.ok(unacked() <= bound, `${unacked()} bytes unacknowledged after the first ack`);
    for (let i = 2; logs(session).length < 50; i++) {
      await server.until(() => session.received === counted().length, 'what the client wrote');
      await ack(i);
      assert.ok(unacked() <= bound, `${unacked()} bytes unacknowledged after ack #${i}`);
    }
    assert.deepEqual(logs(session), upTo(50), 'all arrived, in order');

    // An empty buffer takes one frame of any size; the next waits for its acknowledgement.
    await server.until(() => session.received === counted().length, 'what the client wrote');
    await ack(100);
    const before = counted().length;
    peer.notify('log', { n: 51, pad: 'y'.repeat(3 * bound) });
    assert.equal(counted().length, before + 1, 'the big one went out at once');
    peer.notify('log', { n: 52 });
    assert.equal(counted().length, before + 1, 'the next one waits');
    await server.until(() => session.received === before + 1, 'the big one');
    await ack(101);
    await server.until(() => logs(session).length === 52, 'the last one');
    assert.deepEqual(logs(session), upTo(52));
  } finally {
    peer?.close();
    await server.close();
  }
});

test('the client acknowledges at once at 32 unacknowledged frames, and fewer within 100 ms', async () => {
  const server = await startSessionServer();
  const notes = [];
  let peer;
  try {
    peer = await within(connect(server.url, options({ handlers: { note: ({ n }) => notes.push(n) } })), 'connect');
    const session = await server.session(0);
    for (let n = 1; n <= 5; n++) session.notify('note', { n });
    await server.until(() => session.acks.length === 1, 'an acknowledgement');
    assert.deepEqual(session.acks, [5], 'the 5 frames, acknowledged by the timer');
    // 40 more in one burst: acknowledged when the 32nd is read, the other 8 by the timer.
    for (let n = 6; n <= 45; n++) session.notify('note', { n });
    await server.until(() => session.acks.length === 3, 'two more acknowledgements');
    assert.deepEqual(session.acks, [5, 37, 45]);
    // Answers count too (and a heartbeat's would): one call is one more frame.
    assert.equal(await within(peer.call('add', [1, 1]), 'add'), 2);
    await server.until(() => session.acks.length === 4, 'a fourth acknowledgement');
    assert.deepEqual(session.acks, [5, 37, 45, 46]);
    assert.deepEqual(notes, upTo(45));
  } finally {
    peer?.close();
    await server.close();
  }
});

test('resume-against-volley.mjs passes against the stand-in server', async () => {
  const server = await startSessionServer();
  try {
    const script = fileURLToPath(new URL('./resume-against-volley.mjs', import.meta.url));
    const { code, stdout, stderr } = await within(
      new Promise((resolve) => {
        execFile(process.execPath, [script, server.url], { timeout: 25_000 }, (err, out, errOut) => {
          resolve({ code: err ? (err.code ?? 1) : 0, stdout: out, stderr: errOut });
        });
      }),
      'resume-against-volley.mjs to finish',
      30_000,
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /resume-against-volley: ok/);
    assert.equal(server.sessions.length, 1, 'one session, resumed');
    assert.equal(server.runs('wait'), 1);
  } finally {
    await server.close();
  }
});
