/**
 * Every sample plugin tested with the test kit (plugbroker/testkit): no socket, no wall clock.
 * Echo, login and chat in AssemblyScript, C and Rust, and the gateway.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTestPlugin } from '../../host/testkit/index.js';
import { CHAT_PLUGINS, ECHO_PLUGINS, LOGIN_PLUGINS } from '../conformance/plugins.js';

const GATEWAY = fileURLToPath(new URL('../../plugins/gateway/build/gateway.wasm', import.meta.url));

describe.each(ECHO_PLUGINS)('echo ($language) under the test kit', ({ path }) => {
  it('sends every frame back on its own channel, binary-safe', async () => {
    const kit = await loadTestPlugin(path);
    const a = kit.connect({ address: '10.0.0.1', transport: 'websocket', secure: true });
    const b = kit.connect();
    expect(a.accepted).toBe(true);
    a.send('hello');
    b.send(new Uint8Array([0, 255, 10]));
    a.send('');
    expect(a.takeText()).toEqual(['hello', '']);
    expect(b.take()).toEqual([Buffer.from([0, 255, 10])]);
    a.close();
    expect(a.closeReason).toBe('peer-closed');
    expect(kit.traps).toEqual([]);
    await kit.stop();
    expect(b.closeReason).toBe('shutdown');
  });
});

describe.each(LOGIN_PLUGINS)('login ($language) under the test kit', ({ path }) => {
  it('greets with the configured greeting, prefixes later frames and authenticates', async () => {
    const kit = await loadTestPlugin(path, { config: 'hi' });
    const ch = kit.connect();
    ch.send('login ada');
    ch.send('one');
    expect(ch.takeText()).toEqual(['hi ada', 'ada: one']);
    expect(ch.authenticated).toBe(true);
  });

  it('keeps a login across a trap through the channel data the kit keeps, and reports the trap', async () => {
    const kit = await loadTestPlugin(path);
    const ada = kit.connect();
    const bob = kit.connect();
    ada.send('login ada');
    bob.send('login bob');
    bob.send('!trap');
    expect(kit.traps).toHaveLength(1);
    expect(kit.traps[0].export).toBe('handle-msg');
    expect(bob.closeReason).toBe('plugin-failed');
    ada.send('after');
    expect(ada.takeText()).toEqual(['welcome ada', 'ada: after']);
    await kit.stop();
  });

  it('answers a first frame that is not a login with an error and closes the channel', async () => {
    const kit = await loadTestPlugin(path);
    const ch = kit.connect();
    ch.send('hello');
    expect(ch.takeText()).toEqual(['error: expected "login <name>"']);
    expect(ch.state).toBe('closed');
    expect(ch.closedByPlugin).toBe(true);
    expect(ch.closeReason).toBe('closed-by-plugin');
    expect(kit.calls.filter((c) => c.call === 'channel-close')).toEqual([{ call: 'channel-close', channel: ch.id }]);
  });

  it('refuses to start with a greeting over 32 bytes', async () => {
    await expect(loadTestPlugin(path, { config: 'x'.repeat(33) })).rejects.toThrow(/refused to start/);
  });
});

describe.each(CHAT_PLUGINS)('chat ($language) under the test kit', ({ path }) => {
  it('joins rooms and relays say to the other members only', async () => {
    const kit = await loadTestPlugin(path);
    const [a, b, c] = [kit.connect(), kit.connect(), kit.connect()];
    a.send('join lobby');
    b.send('join lobby');
    expect(a.takeText()).toEqual(['joined lobby 1']);
    expect(b.takeText()).toEqual(['joined lobby 2']);
    expect(kit.groupMembers('lobby')).toEqual([a.id, b.id]);
    a.send('say lobby hi all');
    expect(a.takeText()).toEqual(['sent 1']);
    expect(b.takeText()).toEqual(['lobby: hi all']);
    expect(c.takeText()).toEqual([]);
    b.close();
    expect(kit.groupMembers('lobby')).toEqual([a.id]);
    c.send('nonsense');
    expect(c.takeText()).toEqual(['error: unknown command']);
  });

  it('answers ping after exactly the asked delay on the fake clock, and cancel', async () => {
    const kit = await loadTestPlugin(path);
    const ch = kit.connect();
    ch.send('ping 500');
    kit.advance(499);
    expect(ch.takeText()).toEqual([]);
    kit.advance(1);
    expect(ch.takeText()).toEqual(['pong']);
    ch.send('ping 100');
    ch.send('cancel');
    kit.advance(1000);
    expect(ch.takeText()).toEqual(['cancelled']);
    ch.send('cancel');
    expect(ch.takeText()).toEqual(['no ping pending']);
  });

  it('asks a scripted upstream node and relays its answer; no node: an error', async () => {
    const kit = await loadTestPlugin(path, { upstreams: { logic: { reply: (frame) => `42 (to ${frame.toString()})` } } });
    const ch = kit.connect();
    ch.send('ask meaning');
    expect(ch.takeText()).toEqual(['42 (to meaning)']);
    const [up] = kit.upstreamChannels('logic');
    expect(up!.texts()).toEqual(['meaning']);
    expect(up!.closedByPlugin).toBe(true);

    const none = await loadTestPlugin(path);
    const lone = none.connect();
    lone.send('ask anything');
    expect(lone.takeText()).toEqual(['error: no logic node']);
  });
});

describe('gateway under the test kit', () => {
  it('logs in, forwards to the logic service and relays the acknowledgement', async () => {
    const kit = await loadTestPlugin(GATEWAY, {
      upstreams: {
        logic: {
          reply(frame) {
            // `M <msg-id> <client> <name> <body>` → `A <msg-id> <client> <body>`
            const [, id, client, , ...body] = frame.toString().split(' ');
            return `A ${id} ${client} echo:${body.join(' ')}`;
          },
        },
      },
    });
    const ch = kit.connect();
    ch.send('login ada');
    expect(ch.takeText()).toEqual(['welcome ada']);
    expect(ch.authenticated).toBe(true);
    expect(kit.groupMembers('players')).toContain(ch.id);
    ch.send('move north');
    expect(ch.takeText()).toEqual(['echo:move north']);
  });

  it('keeps a message while no node is up and retries on its timer', async () => {
    const node: { down: boolean; reply: (f: Buffer) => string } = {
      down: true,
      reply: (f) => {
        const [, id, client] = f.toString().split(' ');
        return `A ${id} ${client} ok`;
      },
    };
    const kit = await loadTestPlugin(GATEWAY, { upstreams: { logic: node } });
    const ch = kit.connect();
    ch.send('login bob');
    ch.takeText();
    ch.send('hello');
    expect(ch.takeText()).toEqual([]);
    node.down = false;
    kit.advance(2000);
    expect(ch.takeText()).toEqual(['ok']);
  });

  it('answers a bad first frame with an error and closes', async () => {
    const kit = await loadTestPlugin(GATEWAY);
    const ch = kit.connect();
    ch.send('hello');
    expect(ch.takeText()).toEqual(['error: expected "login <name>"']);
    expect(ch.closeReason).toBe('closed-by-plugin');
  });
});
