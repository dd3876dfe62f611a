/**
 * The pieces of `broker init` and of the build-time checks that need no compiler: template
 * rewriting, comment stripping, the C handler list and the link hint, the SDK path mapping.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { crateName, rewriteAsImports, rewriteCargoToml } from '../../../host/cli/init.js';
import { mapSdkPath } from '../../../host/toolchain/assemblyscript.js';
import { cHandlerNames, cLinkHint, stripComments } from '../../../host/toolchain/plugin-checks.js';
import { asSdkDir } from '../../../host/toolchain/sdk-paths.js';

describe('broker init rewriting', () => {
  it('turns repository-relative SDK imports into the plugbroker package', () => {
    const src = [
      'import { Channel, Plugin, register } from "../../../plugin-sdk-as/assembly";',
      'export * from "../../../plugin-sdk-as/assembly/abi/exports";',
      "export * from '../../plugin-sdk-as/assembly/abi/timer-exports';",
      'import { helper } from "./helper";',
    ].join('\n');
    expect(rewriteAsImports(src)).toBe(
      [
        'import { Channel, Plugin, register } from "plugbroker";',
        'export * from "plugbroker/abi/exports";',
        "export * from 'plugbroker/abi/timer-exports';",
        'import { helper } from "./helper";',
      ].join('\n'),
    );
  });

  it('names the crate after the folder and drops the SDK path from Cargo.toml', () => {
    const toml = '[package]\nname = "echo-rust"\nedition = "2021"\n\n[dependencies]\nplugbroker = { path = "../../plugin-sdk-rust" }\n';
    const out = rewriteCargoToml(toml, 'shout');
    expect(out).toContain('name = "shout"');
    expect(out).not.toContain('path');
    expect(out).toMatch(/^plugbroker = "\*"/m);
  });

  it.each([
    ['shout', 'shout'],
    ['My Plugin', 'my-plugin'],
    ['9lives', 'plugin-9lives'],
    ['__', 'plugin-x'],
  ])('makes a crate name of folder %j: %j', (folder, name) => {
    expect(crateName(folder)).toBe(name);
  });
});

describe('build-time checks', () => {
  it('strips comments but keeps strings', () => {
    const out = stripComments('a(); // register(x)\n/* register(y) */ b("// not a comment");');
    expect(out).not.toContain('register');
    expect(out).toContain('"// not a comment"');
    expect(out.split('\n')).toHaveLength(2);
  });

  it('reads the C handlers from the SDK header', async () => {
    expect(await cHandlerNames()).toEqual(expect.arrayContaining(['pb_on_start', 'pb_on_stop', 'pb_on_connect', 'pb_on_message', 'pb_on_broken']));
  });

  it('explains an undefined symbol as a missing libc', () => {
    expect(cLinkHint('wasm-ld: error: x.o: undefined symbol: printf\nwasm-ld: error: x.o: undefined symbol: malloc')).toMatch(
      /^undefined: printf, malloc\. A plugin has no libc/,
    );
    expect(cLinkHint('x.c:2:1: error: expected expression')).toBeUndefined();
  });

  it('maps the virtual plugbroker package to the shipped AssemblyScript SDK and nothing else', () => {
    expect(mapSdkPath(join('/', '__plugbroker_as_packages__', 'plugbroker', 'abi', 'exports.ts'))).toBe(join(asSdkDir(), 'abi', 'exports.ts'));
    expect(mapSdkPath('/home/me/p/assembly/index.ts')).toBe('/home/me/p/assembly/index.ts');
  });
});
