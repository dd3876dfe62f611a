/**
 * Entry of the `broker` command (bin/broker.js): runs the CLI on the process's arguments and sets
 * the exit status. The only place that does.
 */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
});
