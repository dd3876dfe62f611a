// plugbroker AssemblyScript SDK: the only module plugin code imports.
//
//   import { Plugin, Channel, register } from "<path>/plugin-sdk-as/assembly";
//   export * from "<path>/plugin-sdk-as/assembly/abi/exports";
//
// See plugin-sdk-as/README.md.

export { Plugin, register } from "./plugin";
export { Filter, forward, forwardBuffer } from "./filter";
export { Channel } from "./channel";
export { Group } from "./group";
export { timers } from "./timers";
export { upstreams } from "./upstreams";
export { CloseReason, LogLevel, TransportKind, PeerInfo, closeReasonName } from "./types";
export { log } from "./log";
export { nowMs } from "./clock";
