/**
 * The `upstreams` interface of `wit/plugin.wit`: checks the service name and key, and delegates to
 * `Upstreams`. No state of its own.
 */
import { MAX_UPSTREAM_KEY_BYTES } from '../limits.js';
import type { UpstreamScope } from '../routing/upstreams.js';

/** `upstreams` functions, with strings lifted. */
export interface UpstreamsImports {
  /** `upstream-open`: a channel handle, or 0. */
  upstreamOpen(service: string, key: string): number;
  /** Not a WIT function: a fresh instance is starting; the channels the previous one opened go. */
  reset(): void;
  /** Not WIT (worker isolation): the configured service names, so a worker refuses unknown ones itself. */
  readonly services: readonly string[];
  /** Not WIT (worker isolation): a handle set aside for a worker's `upstream-open`. */
  reserveHandle(): number;
  /** Not WIT (worker isolation): gives back a reserved handle the worker never used. */
  releaseHandle(handle: number): void;
  /** Not WIT (worker isolation): the I/O-thread half of a worker's `upstream-open`; false when it could not open (handle released). */
  upstreamOpenAs(service: string, key: string, handle: number): boolean;
}

/** Builds the `upstreams` interface of one plugin runtime over its `scope`. */
export function createUpstreamsImports(upstreams: UpstreamScope): UpstreamsImports {
  return {
    upstreamOpen(service, key) {
      if (service.length === 0 || Buffer.byteLength(service) > MAX_UPSTREAM_KEY_BYTES || Buffer.byteLength(key) > MAX_UPSTREAM_KEY_BYTES) return 0;
      return upstreams.open(service, key);
    },
    reset: () => upstreams.closeAll(),
    services: upstreams.services,
    reserveHandle: () => upstreams.reserveHandle(),
    releaseHandle: (handle) => upstreams.releaseHandle(handle),
    upstreamOpenAs: (service, key, handle) => upstreams.open(service, key, handle) !== 0,
  };
}
