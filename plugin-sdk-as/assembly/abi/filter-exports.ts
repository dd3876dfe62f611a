// Canonical-ABI entry points of the world `filter` (wit/plugin.wit): `handle-send` and
// `handle-group-send`. A filter's entry file re-exports this module beside the usual one:
//
//   export * from "<path>/plugin-sdk-as/assembly/abi/exports";
//   export * from "<path>/plugin-sdk-as/assembly/abi/filter-exports";
//
// `handle_send` and `handle_group_send` are renamed to `handle-send` and `handle-group-send` by
// the build (`broker build`), which then checks the module against world `filter`.

import { liftBytes, liftString } from "./canonical";
import { registeredPlugin } from "../plugin";
import { Channel } from "../channel";
import { Filter } from "../filter";
import { Group } from "../group";
import { E_NOT_A_FILTER } from "../errors";

/** The registered plugin as a `Filter`. @throws E_NOT_A_FILTER when it is a plain `Plugin` (traps). */
function registeredFilter(): Filter {
  let plugin = registeredPlugin();
  if (!(plugin instanceof Filter)) throw new Error(E_NOT_A_FILTER);
  return changetype<Filter>(plugin);
}

/** WIT `handle-send: func(channel, payload: list<u8>)` (renamed by the build). */
export function handle_send(channel: u32, payloadPtr: usize, payloadLen: usize): void {
  registeredFilter().onSend(Channel.fromId(channel), liftBytes(payloadPtr, payloadLen));
}

/** WIT `handle-group-send: func(group: string, payload: list<u8>, except: channel)` (renamed by the build). */
export function handle_group_send(groupPtr: usize, groupLen: usize, payloadPtr: usize, payloadLen: usize, except: u32): void {
  let group = new Group(liftString(groupPtr, groupLen));
  let payload = liftBytes(payloadPtr, payloadLen);
  registeredFilter().onGroupSend(group, payload, except == 0 ? null : Channel.fromId(except));
}
