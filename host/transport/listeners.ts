/**
 * Opens the listener a `ListenerSpec` describes: `tcp://`/`tls://` (tcp-listener.ts) or
 * `ws://`/`wss://` (ws-listener.ts). Every listener reports to the same gate and hands its
 * transports to the same broker.
 */
import type tls from 'node:tls';
import { formatListenUrl, isSecureScheme, isWebSocketScheme, type ListenerSpec } from './listen-url.js';
import { listenTcp, type BoundListener, type ListenerDeps } from './tcp-listener.js';
import { listenWs } from './ws-listener.js';

/** Everything a listener of any scheme may need. */
export interface OpenListenerDeps extends ListenerDeps {
  /** Certificate and key for `tls://` and `wss://` (required by them). */
  readonly tls: tls.SecureContextOptions | undefined;
  readonly wsCompression: boolean;
  readonly wsAllowedOrigins: readonly string[];
  readonly maxFrameBytes: number;
}

/** A bound listener with what it was asked to be. */
export interface Listener extends BoundListener {
  readonly spec: ListenerSpec;
  /** The URL it listens on, with the port actually bound. */
  readonly url: string;
}

/**
 * Binds the listener `spec` describes.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function openListener(spec: ListenerSpec, deps: OpenListenerDeps): Promise<Listener> {
  const secure = isSecureScheme(spec.scheme);
  if (secure && deps.tls === undefined) throw new Error(`${spec.scheme}:// listener without TLS credentials`); // resolveOptions refuses this first
  const tlsOpts = secure ? deps.tls : undefined;
  const bound = isWebSocketScheme(spec.scheme)
    ? await listenWs({
        ...deps,
        host: spec.host,
        port: spec.port,
        path: spec.path,
        tls: tlsOpts,
        compression: deps.wsCompression,
        allowedOrigins: deps.wsAllowedOrigins,
        maxFrameBytes: deps.maxFrameBytes,
      })
    : await listenTcp({ ...deps, host: spec.host, port: spec.port, framing: spec.framing, tls: tlsOpts });
  return { spec, url: formatListenUrl(spec, bound.address.port), address: bound.address, close: () => bound.close() };
}
