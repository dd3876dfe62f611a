/**
 * Builds the core-module import object of the `plugin` world: lifts each core call's (ptr, len)
 * pairs out of the plugin's memory (bounds-checked) and hands typed values to the `host`
 * interface. Core signatures follow the canonical ABI flattening of `wit/plugin.wit`.
 */
import { MAX_PLUGIN_LOG_BYTES } from '../limits.js';
import type { PluginMemory } from '../plugin/memory.js';
import { HOST_IMPORT_MODULE } from '../plugin/world.js';
import type { HostImports } from './host.js';

/** The import object for `new WebAssembly.Instance(module, imports)`. */
export function buildImports(host: HostImports, mem: PluginMemory): WebAssembly.Imports {
  return {
    [HOST_IMPORT_MODULE]: {
      // i32 arguments arrive signed: `>>> 0` makes handles, pointers and lengths unsigned.
      'channel-send'(channel: number, ptr: number, len: number): number {
        const p = ptr >>> 0;
        const end = p + (len >>> 0);
        return host.channelSend(channel >>> 0, mem.range(p, len >>> 0), p, end) ? 1 : 0;
      },
      'channel-close'(channel: number): void {
        host.channelClose(channel >>> 0);
      },
      log(level: number, ptr: number, len: number): void {
        host.log(level, mem.readString(ptr >>> 0, len >>> 0, MAX_PLUGIN_LOG_BYTES));
      },
      'now-ms'(): bigint {
        return host.nowMs();
      },
    },
  };
}
