/**
 * The `upstreams` interface of `wit/plugin.wit` (`upstream-open`): checks the service name and key,
 * then delegates to an `UpstreamsTarget`: the runtime's `UpstreamScope` on the I/O thread, the pool
 * of reserved handles inside a plugin worker. No state of its own.
 */
import { MAX_UPSTREAM_KEY_BYTES } from '../limits.js';
import type { UpstreamScope } from '../routing/upstreams.js';

/** The `upstreams` interface, with strings lifted. */
export interface UpstreamsInterface {
  /** `upstream-open`: a channel handle, or 0. */
  upstreamOpen(service: string, key: string): number;
}

/** Where `upstream-open` goes once its arguments passed the checks. */
export interface UpstreamsTarget {
  /** A channel handle, or 0 (unknown service, no node available, no handle left). */
  open(service: string, key: string): number;
}

/** Whether `service` and `key` are acceptable: a service name of 1 to `MAX_UPSTREAM_KEY_BYTES` bytes of UTF-8, a key of at most as many. */
export function isValidUpstreamRequest(service: string, key: string): boolean {
  return service.length > 0 && Buffer.byteLength(service) <= MAX_UPSTREAM_KEY_BYTES && Buffer.byteLength(key) <= MAX_UPSTREAM_KEY_BYTES;
}

/** Builds the `upstreams` interface over `target`. */
export function createUpstreamsInterface(target: UpstreamsTarget): UpstreamsInterface {
  return {
    upstreamOpen: (service, key) => (isValidUpstreamRequest(service, key) ? target.open(service, key) : 0),
  };
}

/** The I/O thread's `upstreams` target: the plugin runtime's own `UpstreamScope`. */
export function scopeUpstreamsTarget(scope: UpstreamScope): UpstreamsTarget {
  return { open: (service, key) => scope.open(service, key) };
}
