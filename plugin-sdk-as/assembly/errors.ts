// The SDK's error catalogue: every message the SDK can throw, one constant each (the house
// `E_*` convention, after AssemblyScript's own std/assembly/util/error.ts).
//
// A `throw` in AssemblyScript is a trap: the broker logs it, closes the channel the call was about
// with `plugin-failed` and instantiates the plugin afresh. Plugins are built with `--use abort=`
// (no `env.abort` import may remain in a component), which drops the message text from the
// binary: these constants name each failure for readers of the source and of a debug build's
// stack trace, which shows the throwing function.

/** `register()` was never called: the entry file must call `register(new MyPlugin())` at top level. */
// @ts-ignore: decorator
@lazy @inline export const E_NO_PLUGIN: string = "plugin-sdk-as: no plugin registered; call register(new MyPlugin()) at the top level of the entry file";

/** `register()` was called a second time. */
// @ts-ignore: decorator
@lazy @inline export const E_ALREADY_REGISTERED: string = "plugin-sdk-as: register() may be called only once";

/** The host passed an enum discriminant outside the WIT enum (the canonical ABI traps here too). */
// @ts-ignore: decorator
@lazy @inline export const E_BAD_ENUM: string = "plugin-sdk-as: enum discriminant out of range";

/** `cabi_realloc` was asked for an alignment above the 16 bytes every AssemblyScript block has. */
// @ts-ignore: decorator
@lazy @inline export const E_BAD_ALIGN: string = "plugin-sdk-as: cabi_realloc alignment above 16";

/** The entry file re-exports `abi/filter-exports` but registered a `Plugin` that is not a `Filter`. */
// @ts-ignore: decorator
@lazy @inline export const E_NOT_A_FILTER: string = "plugin-sdk-as: abi/filter-exports needs register(new MyFilter()) with a class extending Filter";
