// sha256-as: every frame a peer sends is answered with its SHA-256 digest (32 bytes), on the same
// channel. The digest is sha256.ts, the port of the shared C code (bench/native/sha256/).

import { Channel, Plugin, register } from "plugbroker";
// The canonical-ABI entry points (start, handle_msg, cabi_realloc, …): every plugin re-exports them.
export * from "plugbroker/abi/exports";
import { sha256 } from "./sha256";

// One reply buffer for every frame: no allocation per digest.
const DIGEST = new Uint8Array(32);

class Sha256Plugin extends Plugin {
  onMessage(channel: Channel, payload: Uint8Array): void {
    sha256(payload.dataStart, <usize>payload.length, DIGEST.dataStart);
    // A full outbound queue drops the reply: the broker closes peers that do not read.
    channel.send(DIGEST);
  }
}

register(new Sha256Plugin());
