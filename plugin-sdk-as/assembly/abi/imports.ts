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
@external("plugbroker:plugin/host@0.1.0", "channel-send")
export declare function channelSend(channel: u32, ptr: usize, len: usize): i32;

/** `channel-close`: closes `channel` once its queued frames are written. */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.1.0", "channel-close")
export declare function channelClose(channel: u32): void;

/**
 * `channel-authenticate`: marks `channel` authenticated (the auth deadline stops applying).
 * @returns non-zero when done, 0 when the channel is unknown, dead or closing.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.1.0", "channel-authenticate")
export declare function channelAuthenticate(channel: u32): i32;

/**
 * `log`: writes a message at `level` (a `LogLevel` discriminant).
 * `ptr` points at UTF-16 code units and `len` counts code units, not bytes.
 */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.1.0", "log")
export declare function log(level: i32, ptr: usize, len: usize): void;

/** `now-ms`: wall-clock milliseconds since the Unix epoch. */
// @ts-ignore: decorator
@external("plugbroker:plugin/host@0.1.0", "now-ms")
export declare function nowMs(): u64;
