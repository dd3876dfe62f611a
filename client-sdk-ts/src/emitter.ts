/**
 * A minimal typed event emitter that runs in browsers and Node alike (Node's EventEmitter is not in
 * browsers, and EventTarget's listeners cannot be typed per event name without casts).
 *
 * A listener that throws does not stop the others nor the client: the error is rethrown from a
 * microtask, where it reaches the global error handler (as EventTarget does).
 */

/** A listener of event `K` of the event map `M` (event name → the listener's argument). */
export type Listener<M extends object, K extends keyof M> = (event: M[K]) => void;

/** Registers, removes and calls listeners by event name; `M` maps each name to its listener's argument. */
export class TypedEmitter<M extends object> {
  readonly #listeners = new Map<keyof M, Set<(event: never) => void>>();

  /** Adds `listener` for `event`; adding the same listener twice has no effect. Returns `this`. */
  on<K extends keyof M>(event: K, listener: Listener<M, K>): this {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (event: never) => void);
    return this;
  }

  /** Removes `listener` from `event`. Returns `this`. */
  off<K extends keyof M>(event: K, listener: Listener<M, K>): this {
    this.#listeners.get(event)?.delete(listener as (event: never) => void);
    return this;
  }

  /** Adds a listener that is removed after its first call. Returns `this`. */
  once<K extends keyof M>(event: K, listener: Listener<M, K>): this {
    const wrapper: Listener<M, K> = (e) => {
      this.off(event, wrapper);
      listener(e);
    };
    return this.on(event, wrapper);
  }

  /** Calls every listener of `event` with `payload`, in the order they were added. */
  protected emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<M, K>)(payload);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
