/**
 * The `chain` interface of `wit/plugin.wit` (`chain-forward`, world `filter`): checks the payload
 * size, then delegates to a `ChainTarget` (the plugin chain, host/plugin/chain/plugin-chain.ts). No
 * state of its own.
 */

/** The `chain` interface; `src[start, end)` is a view into plugin memory valid only during the call. */
export interface ChainInterface {
  /** `chain-forward`: passes a frame on towards the application. */
  chainForward(channel: number, src: Uint8Array, start: number, end: number): boolean;
}

/** Where `chain` calls go once their arguments passed the checks (a non-empty frame within limits). */
export interface ChainTarget {
  /** Queues the frame (copied) for the next plugin; false when the channel is not live or not chained. */
  forward(channel: number, src: Uint8Array, start: number, end: number): boolean;
}

/** Limits the `chain` interface enforces. */
export interface ChainLimits {
  /** Largest frame body a plugin may pass on, in bytes. */
  readonly maxFrameBytes: number;
}

/** Builds the `chain` interface over `target`. */
export function createChainInterface(target: ChainTarget, limits: ChainLimits): ChainInterface {
  const maxFrameBytes = limits.maxFrameBytes;
  return {
    chainForward: (channel, src, start, end) => end > start && end - start <= maxFrameBytes && target.forward(channel, src, start, end),
  };
}

/** The `chain` interface of a plugin that is not in front of another: nothing to pass to. */
export const NO_CHAIN: ChainInterface = Object.freeze({ chainForward: () => false });
