// Pass-through filter: sits in front of another plugin in a chain
// (`broker serve --plugin filter-as.wasm --plugin echo.wasm`) and passes every frame on, in both
// directions, unchanged. Override `onMessage`, `onSend` or `onGroupSend` to change, drop or answer
// frames (plugin-sdk-as/README.md, "Filters").

import { Filter, register } from "../../../plugin-sdk-as/assembly";
// The entry points of world `plugin`, and those only a filter has (handle-send, handle-group-send).
export * from "../../../plugin-sdk-as/assembly/abi/exports";
export * from "../../../plugin-sdk-as/assembly/abi/filter-exports";

class PassThrough extends Filter {}

register(new PassThrough());
