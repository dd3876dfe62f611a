// Raw host imports of the world `plugbroker:plugin/plugin` (interface `host`, see wit/plugin.wit).
//
// Core signatures follow the canonical ABI: a `list<u8>` or `string` lowers to (ptr, len), `u32`
// and enums to i32, `u64` to i64, `bool` to i32. Strings are UTF-16 (the component is embedded with
// `stringEncoding: 'utf16'`), so a string's len is counted in UTF-16 code units.
// Plugin code should not call these directly: use `Channel`, `log` and `nowMs` from the SDK index.

/**
 * `channel-send`: queues `len` bytes at `ptr` as one frame for `channel`.
 * The host copies the bytes before returning; the plugin keeps ownership.
 * @returns non-zero when queued, 0 when the channel is unknown, dead, closing or full.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "channel-send")
export declare function channelSend(channel: u32, ptr: usize, len: usize): i32;

/** `channel-close`: closes `channel` once its queued frames are written. */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "channel-close")
export declare function channelClose(channel: u32): void;

/**
 * `channel-authenticate`: marks `channel` authenticated (the auth deadline stops applying).
 * @returns non-zero when done, 0 when the channel is unknown, dead or closing.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "channel-authenticate")
export declare function channelAuthenticate(channel: u32): i32;

/**
 * `log`: writes a message at `level` (a `LogLevel` discriminant).
 * `ptr` points at UTF-16 code units and `len` counts code units, not bytes.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "log")
export declare function log(level: i32, ptr: usize, len: usize): void;

/** `now-ms`: wall-clock milliseconds since the Unix epoch. */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "now-ms")
export declare function nowMs(): u64;

/**
 * `channel-set-data`: stores the `len` bytes at `ptr` as the channel's data (the host copies them).
 * @returns non-zero when stored, 0 when too large or the channel is unknown, dead or ending.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "channel-set-data")
export declare function channelSetData(channel: u32, ptr: usize, len: usize): i32;

/**
 * `channel-get-data`: writes the data's (ptr, len) to the 8-byte area at `retptr`. The host
 * allocates the bytes through `cabi_realloc(0, 0, 1, len)` during the call; see
 * `abi/canonical.ts` (`liftReturnedBytes`).
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.2.0", "channel-get-data")
export declare function channelGetData(channel: u32, retptr: usize): void;

// Interface `groups` (wit/plugin.wit). Group names are UTF-16: (ptr, len in code units).

/** `group-join`: adds `channel` to the group. @returns non-zero when it is a member now. */
// @ts-ignore: decorator
@external("plugbroker:plugin/groups@0.2.0", "group-join")
export declare function groupJoin(namePtr: usize, nameLen: usize, channel: u32): i32;

/** `group-leave`: removes `channel` from the group. @returns non-zero when it was a member. */
// @ts-ignore: decorator
@external("plugbroker:plugin/groups@0.2.0", "group-leave")
export declare function groupLeave(namePtr: usize, nameLen: usize, channel: u32): i32;

/** `group-send`: one frame to every member but `except` (0: none). @returns deliveries queued. */
// @ts-ignore: decorator
@external("plugbroker:plugin/groups@0.2.0", "group-send")
export declare function groupSend(namePtr: usize, nameLen: usize, ptr: usize, len: usize, except: u32): u32;

/** `group-size`: members of the group. */
// @ts-ignore: decorator
@external("plugbroker:plugin/groups@0.2.0", "group-size")
export declare function groupSize(namePtr: usize, nameLen: usize): u32;

// Interface `timers` (wit/plugin.wit); timers fire through `handle-timer` (abi/timer-exports.ts).

/** `timer-set`: arms timer `token`. @returns non-zero when armed. */
// @ts-ignore: decorator
@external("plugbroker:plugin/timers@0.2.0", "timer-set")
export declare function timerSet(token: u64, delayMs: u32, repeat: i32): i32;

/** `timer-cancel`: disarms timer `token`. @returns non-zero when it was armed. */
// @ts-ignore: decorator
@external("plugbroker:plugin/timers@0.2.0", "timer-cancel")
export declare function timerCancel(token: u64): i32;

// Interface `upstreams` (wit/plugin.wit). Strings are UTF-16: (ptr, len in code units).

/** `upstream-open`: a channel to a node of `service` (0: unknown service or every node ejected). */
// @ts-ignore: decorator
@external("plugbroker:plugin/upstreams@0.2.0", "upstream-open")
export declare function upstreamOpen(servicePtr: usize, serviceLen: usize, keyPtr: usize, keyLen: usize): u32;

// Interface `chain` (wit/plugin.wit, world `filter` only).

/**
 * `chain-forward`: passes the `len` bytes at `ptr` on to the next plugin of the chain as one frame
 * of `channel` (the host copies them). Only a filter (world `filter`) may import it.
 * @returns non-zero when passed, 0 when the channel is dead, closing or an upstream channel, or the
 * payload is empty or above the frame size limit.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/chain@0.2.0", "chain-forward")
export declare function chainForward(channel: u32, ptr: usize, len: usize): i32;
