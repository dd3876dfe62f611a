/**
 * `plugbroker/testkit`: test a plugin component with no socket and no timing (docs/testkit.md).
 *
 * ```ts
 * import { loadTestPlugin } from 'plugbroker/testkit';
 * const kit = await loadTestPlugin('build/echo.wasm');
 * const ch = kit.connect();
 * ch.send('hello');
 * assert.deepEqual(ch.takeText(), ['hello']);
 * ```
 */
export { loadTestPlugin, PluginHarness, TestChannel } from './plugin-harness.js';
export type { ChannelState, FrameInput, PluginLogLine, TestPeer, TestPluginOptions, UpstreamNode } from './plugin-harness.js';
export { FakeClock } from './fake-clock.js';
export type { HostCall, TrapReport } from './host-call.js';
export { CLOSE_REASONS, type CloseReason, type PeerInfo } from '../plugin/world.js';
