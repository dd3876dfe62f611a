/**
 * Fuel: a CPU budget that works on the thread that runs the plugin (inline isolation). At load the
 * core module is instrumented with binaryen's `log-execution` pass, which puts a call at every
 * function entry and loop header; that call is then replaced by a decrement of an exported global
 * that traps (`unreachable`) when it goes below zero, and inlined. The host refills the global
 * before each call (`PluginInstance`), so a call that loops forever traps after `fuel` steps and the
 * failure policy applies, without leaving the I/O thread.
 *
 * A step is one loop iteration or one function call: its cost in time depends on the code (a
 * `memory.fill` of 64 MiB is one step), so fuel bounds work, not milliseconds. Measured on the echo
 * plugin: ≈ +35 ns per call (≈ 195 → 230 ns through the adapter); a 64 B echo uses 4 steps.
 */

/** Name of the exported mutable i32 global that holds the fuel left. */
export const FUEL_EXPORT = '__plugbroker_fuel';

/** binaryen's instrumentation import, replaced by the decrement. */
const HOOK_BASE = 'log_execution';

/**
 * Returns `core` instrumented with a fuel counter (see the file comment).
 * @throws {Error} when binaryen cannot read or validate the module (callers wrap it).
 */
export async function instrumentFuel(core: Uint8Array): Promise<Uint8Array> {
  const { default: binaryen } = await import('binaryen');
  const mod = binaryen.readBinary(core);
  try {
    mod.setFeatures(binaryen.Features.All);
    mod.runPasses(['log-execution']);
    let hook: { name: string; params: number; results: number } | undefined;
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (info.base === HOOK_BASE) hook = info;
    }
    if (hook === undefined) return core; // nothing to instrument: no loop and no function
    mod.removeFunction(hook.name);
    mod.addGlobal(FUEL_EXPORT, binaryen.i32, true, mod.i32.const(0x7fffffff));
    mod.addGlobalExport(FUEL_EXPORT, FUEL_EXPORT);
    const fuel = (): number => mod.global.get(FUEL_EXPORT, binaryen.i32);
    mod.addFunction(
      hook.name,
      hook.params,
      hook.results,
      [],
      mod.block(null, [mod.global.set(FUEL_EXPORT, mod.i32.sub(fuel(), mod.i32.const(1))), mod.if(mod.i32.lt_s(fuel(), mod.i32.const(0)), mod.unreachable())]),
    );
    // Inline the hook everywhere: a call per loop iteration would cost far more than the check.
    const level = binaryen.getOptimizeLevel();
    binaryen.setOptimizeLevel(2);
    try {
      mod.runPasses(['inlining-optimizing']);
    } finally {
      binaryen.setOptimizeLevel(level);
    }
    if (!mod.validate()) throw new Error('fuel instrumentation produced an invalid module');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
