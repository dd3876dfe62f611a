// Canonical-ABI entry points of the world `plugin`. The plugin's entry file re-exports them all:
//
//   export * from "<path>/plugin-sdk-as/assembly/abi/exports";
//
// AssemblyScript cannot export kebab-case names, so `handle_msg`, `handle_connect` and
// `handle_broken` are renamed to `handle-msg`, `handle-connect` and `handle-broken` in the binary
// by the build (`broker build`); the other names are final. Each entry point lifts its arguments
// and delegates to the registered `Plugin`.

import { liftBytes, liftEnum, liftString, lowerStartResult, releaseStartResult } from "./canonical";
import { registeredPlugin } from "../plugin";
import { Channel } from "../channel";
import { CLOSE_REASON_COUNT, CloseReason, PeerInfo, TRANSPORT_KIND_COUNT, TransportKind } from "../types";

export { cabi_realloc } from "./canonical";

/** WIT `start: func(config: string) -> result<_, string>`; returns the result-area pointer. */
export function start(configPtr: usize, configLen: usize): usize {
  return lowerStartResult(registeredPlugin().start(liftString(configPtr, configLen)));
}

/** Post-return of `start`: releases the error string lent to the host. */
export function cabi_post_start(resultPtr: usize): void {
  releaseStartResult();
}

/** WIT `stop: func()`. */
export function stop(): void {
  registeredPlugin().stop();
}

/** WIT `handle-connect: func(channel, peer: peer-info) -> bool` (renamed by the build). */
export function handle_connect(
  channel: u32, addressPtr: usize, addressLen: usize, port: u32, transport: u32, secure: u32, resumed: u32,
): bool {
  let peer = new PeerInfo(
    liftString(addressPtr, addressLen),
    <u16>port,
    <TransportKind>liftEnum(transport, TRANSPORT_KIND_COUNT),
    secure != 0,
    resumed != 0,
  );
  return registeredPlugin().onConnect(Channel.fromId(channel), peer);
}

/** WIT `handle-msg: func(channel, payload: list<u8>)` (renamed by the build). */
export function handle_msg(channel: u32, payloadPtr: usize, payloadLen: usize): void {
  let payload = liftBytes(payloadPtr, payloadLen);
  registeredPlugin().onMessage(Channel.fromId(channel), payload);
}

/** WIT `handle-broken: func(channel, reason: close-reason)` (renamed by the build). */
export function handle_broken(channel: u32, reason: u32): void {
  registeredPlugin().onBroken(Channel.fromId(channel), <CloseReason>liftEnum(reason, CLOSE_REASON_COUNT));
}
