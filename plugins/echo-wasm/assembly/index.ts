// Echo: every frame a peer sends comes back to it, unchanged, on the same channel.

import { Channel, Plugin, register } from "../../../plugin-sdk-as/assembly";
// The canonical-ABI entry points (start, handle_msg, cabi_realloc, …): every plugin re-exports them.
export * from "../../../plugin-sdk-as/assembly/abi/exports";

class EchoPlugin extends Plugin {
  onMessage(channel: Channel, payload: Uint8Array): void {
    // `send` returns false when the peer's outbound queue is full (it does not read): an echo has
    // nothing better to do with the frame than drop it.
    channel.send(payload);
  }
}

register(new EchoPlugin());
