/**
 * `logic-server` from the command line: `npx tsx examples/logic-server/main.ts --name n1 --port 7001`.
 * Logs one line per connection change; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { startLogicServer } from './logic-server.js';

const { values } = parseArgs({ options: { name: { type: 'string', default: 'logic' }, port: { type: 'string', default: '7001' } } });
const server = await startLogicServer({ name: values.name!, port: Number(values.port) });
console.log(`logic server ${server.name} listening on 127.0.0.1:${server.port}`);
process.on('SIGINT', () => void server.kill().then(() => process.exit(0)));
