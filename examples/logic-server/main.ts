/**
 * `logic-server` from the command line: `npx tsx examples/logic-server/main.ts --name n1 --port 7001`,
 * or as a member of the NATS service `logic`: `… --name n1 --nats nats://127.0.0.1:4222 [--cluster-name plugbroker]`.
 * Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { startLogicServer } from './logic-server.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'logic' },
    port: { type: 'string', default: '7001' },
    nats: { type: 'string' },
    'cluster-name': { type: 'string' },
    service: { type: 'string', default: 'logic' },
  },
});
const nats = values.nats === undefined ? undefined : { servers: values.nats.split(','), clusterName: values['cluster-name'], service: values.service };
const server = await startLogicServer({ name: values.name!, port: Number(values.port), nats });
console.log(
  nats === undefined
    ? `logic server ${server.name} listening on 127.0.0.1:${server.port}`
    : `logic server ${server.name} serving NATS service ${nats.service} on ${values.nats}`,
);
process.on('SIGINT', () => void server.kill().then(() => process.exit(0)));
