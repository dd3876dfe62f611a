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
}

/** Builds the `upstreams` interface of one plugin runtime over its `scope`. */
export function createUpstreamsImports(upstreams: UpstreamScope): UpstreamsImports {
  return {
    upstreamOpen(service, key) {
      if (service.length === 0 || Buffer.byteLength(service) > MAX_UPSTREAM_KEY_BYTES || Buffer.byteLength(key) > MAX_UPSTREAM_KEY_BYTES) return 0;
      return upstreams.open(service, key);
    },
    reset: () => upstreams.closeAll(),
  };
}
