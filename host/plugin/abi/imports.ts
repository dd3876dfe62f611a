/**
 * Builds the core-module import object of the `plugin` world: lifts each core call's (ptr, len)
 * pairs out of the plugin's memory (bounds-checked) and hands typed values to the host imports.
 * Core signatures follow the canonical ABI flattening of `wit/plugin.wit`
 * (component-model CanonicalABI.md, "Flattening").
 */
import type { HostImports } from '../../host-api/host-imports.js';
import { MAX_GROUP_NAME_BYTES, MAX_PLUGIN_LOG_BYTES, MAX_UPSTREAM_KEY_BYTES } from '../../limits.js';
import { NO_CHAIN } from '../../host-api/chain.js';
import { CHAIN_IMPORT_MODULE, GROUPS_IMPORT_MODULE, HOST_IMPORT_MODULE, TIMERS_IMPORT_MODULE, UPSTREAMS_IMPORT_MODULE } from '../world.js';
import type { PluginMemory } from './memory.js';

/** The import object for `new WebAssembly.Instance(module, imports)`. */
export function buildImports(imports: HostImports, mem: PluginMemory): WebAssembly.Imports {
  const { host, groups, timers, upstreams } = imports;
  const chain = imports.chain ?? NO_CHAIN;
  return {
    [HOST_IMPORT_MODULE]: {
      // i32 arguments arrive signed: `>>> 0` makes handles, pointers and lengths unsigned.
      'channel-send'(channel: number, ptr: number, len: number): number {
        const p = ptr >>> 0;
        const end = p + (len >>> 0);
        return host.channelSend(channel >>> 0, mem.bytes(p, len >>> 0), p, end) ? 1 : 0;
      },
      'channel-close'(channel: number): void {
        host.channelClose(channel >>> 0);
      },
      'channel-authenticate'(channel: number): number {
        return host.channelAuthenticate(channel >>> 0) ? 1 : 0;
      },
      log(level: number, ptr: number, len: number): void {
        host.log(level, mem.readString(ptr >>> 0, len >>> 0, MAX_PLUGIN_LOG_BYTES));
      },
      'now-ms'(): bigint {
        return host.nowMs();
      },
      'channel-set-data'(channel: number, ptr: number, len: number): number {
        const p = ptr >>> 0;
        return host.channelSetData(channel >>> 0, mem.bytes(p, len >>> 0), p, p + (len >>> 0)) ? 1 : 0;
      },
      'channel-get-data'(channel: number, retptr: number): void {
        mem.returnList(retptr >>> 0, host.channelGetData(channel >>> 0));
      },
    },
    // Group names, service names and keys are read with one byte of slack past their limit, so that
    // the host API refuses a name that is too long instead of cutting it.
    [GROUPS_IMPORT_MODULE]: {
      'group-join'(gPtr: number, gLen: number, channel: number): number {
        return groups.groupJoin(mem.readString(gPtr >>> 0, gLen >>> 0, MAX_GROUP_NAME_BYTES + 1), channel >>> 0) ? 1 : 0;
      },
      'group-leave'(gPtr: number, gLen: number, channel: number): number {
        return groups.groupLeave(mem.readString(gPtr >>> 0, gLen >>> 0, MAX_GROUP_NAME_BYTES + 1), channel >>> 0) ? 1 : 0;
      },
      'group-send'(gPtr: number, gLen: number, ptr: number, len: number, except: number): number {
        const name = mem.readString(gPtr >>> 0, gLen >>> 0, MAX_GROUP_NAME_BYTES + 1);
        const p = ptr >>> 0;
        const src = mem.bytes(p, len >>> 0);
        return groups.groupSend(name, src, p, p + (len >>> 0), except >>> 0);
      },
      'group-size'(gPtr: number, gLen: number): number {
        return groups.groupSize(mem.readString(gPtr >>> 0, gLen >>> 0, MAX_GROUP_NAME_BYTES + 1));
      },
    },
    [TIMERS_IMPORT_MODULE]: {
      'timer-set'(token: bigint, delayMs: number, repeat: number): number {
        return timers.timerSet(BigInt.asUintN(64, token), delayMs >>> 0, repeat !== 0) ? 1 : 0;
      },
      'timer-cancel'(token: bigint): number {
        return timers.timerCancel(BigInt.asUintN(64, token)) ? 1 : 0;
      },
    },
    [UPSTREAMS_IMPORT_MODULE]: {
      'upstream-open'(sPtr: number, sLen: number, kPtr: number, kLen: number): number {
        const service = mem.readString(sPtr >>> 0, sLen >>> 0, MAX_UPSTREAM_KEY_BYTES + 1);
        const key = mem.readString(kPtr >>> 0, kLen >>> 0, MAX_UPSTREAM_KEY_BYTES + 1);
        return upstreams.upstreamOpen(service, key);
      },
    },
    [CHAIN_IMPORT_MODULE]: {
      'chain-forward'(channel: number, ptr: number, len: number): number {
        const p = ptr >>> 0;
        return chain.chainForward(channel >>> 0, mem.bytes(p, len >>> 0), p, p + (len >>> 0)) ? 1 : 0;
      },
    },
  };
}
