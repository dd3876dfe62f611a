// `upstreams`: channels to other servers, by logical service name.

import { upstreamOpen } from "./abi/imports";
import { Channel } from "./channel";

/**
 * Channels to the nodes behind a logical service name (WIT interface `upstreams`). The broker's
 * configuration (`--upstream logic=host:port,host:port/policy`) says which nodes and how to choose;
 * the plugin only names the service. The channel is used like a client's: `send`, `close`, groups;
 * the node's frames arrive in `onMessage` and its end in `onBroken` (there is no `onConnect`).
 */
export namespace upstreams {
  /**
   * Opens a channel to a node of `service`. `key` picks the node under the `consistent-hash`
   * policy (the same key, the same node while it is up); other policies ignore it.
   * Frames may be sent at once: they wait for the connection.
   * @returns null when the service is unknown or every node is ejected for now (retry later,
   * e.g. from a timer); a refused connection shows up as `onBroken(channel, PeerClosed)`.
   */
  export function open(service: string, key: string = ""): Channel | null {
    let id = upstreamOpen(changetype<usize>(service), <usize>service.length, changetype<usize>(key), <usize>key.length);
    return changetype<Channel | null>(<usize>id);
  }
}
