/**
 * Hot swap: moves the live channels from a running plugin to a freshly started one without
 * dropping a connection. The caller has already loaded, validated and started `next` (a broken
 * file never gets this far) and has made it the runtime every new call goes to; from that moment
 * the old runtime takes no call, finishes what it had queued, and is released without `stop()`.
 *
 * - Both plugins stateful (world `stateful-plugin`): the old instance's `snapshot()` is handed to
 *   the new one's `restore(state)`, which runs before any call made after the switch.
 * - Otherwise: the new instance gets `handle-connect(resumed = true)` for every open channel, the
 *   same replay as after a failure under the `reload` policy.
 */
import type { PluginRuntime, RuntimeOwner } from './runtime.js';

/** How the channels reached the new plugin: its state restored, or replayed as resumed connects. */
export type SwapResult = 'state' | 'replay';

/** Switches the channels from `old` to `next` (already serving new calls); see the file comment. */
export function swapRuntime(old: PluginRuntime, next: PluginRuntime, owner: RuntimeOwner): SwapResult {
  if (old.health === 'ok' && old.spec.stateful && next.spec.stateful) {
    next.restore(old.detach(true));
    return 'state';
  }
  // Memberships made by the old instance stay (they are the broker's); a worker's mirror learns them
  // once the old runtime has drained, before the resumed connects below.
  const drained = old.detach(false);
  next.adoptGroups?.(drained);
  for (const [channel, peer] of [...owner.liveChannels()]) {
    if (next.handleConnect(channel, peer) === false) owner.onConnectDecided(channel, false);
  }
  return 'replay';
}
