/**
 * Runs a session script (session-script.ts) on the test kit (plugin-harness.ts): one step after the
 * other, stopping at the first step whose expectation the plugin does not meet, with a readable diff
 * of what was expected and what the plugin did (`broker test`, docs/testkit.md).
 */
import { TestMismatchError } from '../errors.js';
import { diffFrames, diffLines, showFrame } from './frame-diff.js';
import { loadTestPlugin, type PluginHarness, type TestChannel, type TestPluginOptions, type UpstreamNode } from './plugin-harness.js';
import type { ScriptUpstream, SessionScript, SessionStep } from './session-script.js';

/** Options of `runSession` besides the script. */
export interface RunSessionOpts {
  /** `--plugin-memory-max-mb`. */
  readonly memoryMaxMb?: number;
  /** `--plugin-call-fuel`. */
  readonly callFuel?: number;
}

/** What a session that passed did. */
export interface SessionResult {
  /** Steps run (all of them). */
  readonly steps: number;
  /** Host calls the plugin made. */
  readonly hostCalls: number;
  /** Traps the plugin took (each expected by an `expect-trap`, or not). */
  readonly traps: number;
}

/**
 * Loads `pluginPath` into the kit with the script's options and runs every step.
 * @throws {TestMismatchError} `PB_ERR_TEST_MISMATCH` at the first step the plugin does not meet.
 * @throws the loader's errors for a plugin that does not load or start.
 */
export async function runSession(script: SessionScript, pluginPath: string, opts: RunSessionOpts = {}): Promise<SessionResult> {
  const kitOpts: TestPluginOptions = {
    config: script.config,
    failurePolicy: script.failurePolicy,
    channelDataMaxBytes: script.channelDataMaxBytes,
    maxFrameBytes: script.maxFrameBytes,
    memoryMaxMb: opts.memoryMaxMb,
    callFuel: opts.callFuel,
    upstreams: Object.fromEntries([...script.upstreams].map(([service, node]) => [service, scriptedNode(node)])),
  };
  const kit = await loadTestPlugin(pluginPath, kitOpts);
  const run = new SessionRun(script, kit);
  try {
    for (const step of script.steps) run.step(step);
  } finally {
    await kit.stop().catch(() => {});
  }
  return { steps: script.steps.length, hostCalls: kit.calls.length, traps: kit.traps.length };
}

function scriptedNode(node: ScriptUpstream): UpstreamNode {
  return {
    down: node.down,
    reply(frame) {
      const answer = node.answers.get(frame.toString('utf8'));
      if (answer !== undefined) return answer;
      return node.reply === 'echo' ? Buffer.from(frame) : undefined;
    },
  };
}

/** One run of a script: the names it gave its channels and how far each expectation has read. */
class SessionRun {
  readonly #script: SessionScript;
  readonly #kit: PluginHarness;
  readonly #channels = new Map<string, TestChannel>();
  /** Per group: how many of the plugin's host calls an expect-group has looked at. */
  readonly #groupRead = new Map<string, number>();
  readonly #upstreamRead = new Map<TestChannel, number>();
  #trapsRead = 0;
  #logsRead = 0;

  constructor(script: SessionScript, kit: PluginHarness) {
    this.#script = script;
    this.#kit = kit;
  }

  step(step: SessionStep): void {
    const kit = this.#kit;
    switch (step.action) {
      case 'connect': {
        if (this.#channels.get(step.channel)?.state === 'open') this.#fail(step, `channel ${step.channel} is already connected`, '');
        const ch = this.#call(step, () => kit.connect(step.peer));
        this.#channels.set(step.channel, ch);
        if (ch.accepted === step.refused) {
          this.#fail(
            step,
            step.refused ? 'handle-connect accepted the channel' : 'handle-connect refused the channel',
            diffLines([step.refused ? 'refused' : 'accepted'], [ch.accepted ? 'accepted' : 'refused']),
          );
        }
        return;
      }
      case 'send': {
        const ch = this.#channel(step, step.channel);
        for (const frame of step.frames) {
          if (ch.state !== 'open') this.#fail(step, `cannot send to ${step.channel}: it has ended (${ch.closeReason ?? 'unknown'})`, this.#trapDetail());
          this.#call(step, () => ch.send(frame));
        }
        return;
      }
      case 'expect': {
        const actual = this.#channel(step, step.channel).take();
        if (!sameFrames(step.frames, actual)) this.#fail(step, `the frames to ${step.channel} differ`, diffFrames(step.frames, actual) + this.#trapDetail());
        return;
      }
      case 'expect-group': {
        if (step.frames !== undefined) {
          const from = this.#groupRead.get(step.group) ?? 0;
          const sends = kit.calls.slice(from).flatMap((c) => (c.call === 'group-send' && c.group === step.group ? [c.payload] : []));
          this.#groupRead.set(step.group, kit.calls.length);
          if (!sameFrames(step.frames, sends)) this.#fail(step, `the frames sent to group ${step.group} differ`, diffFrames(step.frames, sends));
        }
        if (step.members !== undefined) {
          const names = new Map([...this.#channels].map(([n, ch]) => [ch.id, n]));
          const actual = kit.groupMembers(step.group).map((id) => names.get(id) ?? `#${id}`);
          if (actual.join('\0') !== step.members.join('\0')) this.#fail(step, `the members of group ${step.group} differ`, diffLines(step.members, actual));
        }
        return;
      }
      case 'expect-upstream': {
        const actual: Buffer[] = [];
        for (const ch of kit.upstreamChannels(step.service)) {
          const from = this.#upstreamRead.get(ch) ?? 0;
          actual.push(...ch.frames.slice(from));
          this.#upstreamRead.set(ch, ch.frames.length);
        }
        if (!sameFrames(step.frames, actual)) this.#fail(step, `the frames to upstream ${step.service} differ`, diffFrames(step.frames, actual));
        return;
      }
      case 'advance':
        this.#call(step, () => kit.advance(step.ms));
        return;
      case 'close': {
        const ch = this.#channel(step, step.channel);
        if (ch.state !== 'open') this.#fail(step, `cannot close ${step.channel}: it has ended (${ch.closeReason ?? 'unknown'})`, '');
        this.#call(step, () => ch.close(step.reason));
        return;
      }
      case 'expect-closed': {
        const ch = this.#channel(step, step.channel);
        if (ch.state === 'open')
          this.#fail(step, `${step.channel} is still open`, diffLines([`closed${step.reason === undefined ? '' : ` (${step.reason})`}`], ['open']));
        if (step.reason !== undefined && ch.closeReason !== step.reason) {
          this.#fail(step, `${step.channel} ended with another reason`, diffLines([step.reason], [ch.closeReason ?? 'unknown']) + this.#trapDetail());
        }
        return;
      }
      case 'expect-open': {
        const ch = this.#channel(step, step.channel);
        if (ch.state !== 'open')
          this.#fail(
            step,
            `${step.channel} has ended (${ch.closeReason ?? 'unknown'})`,
            diffLines(['open'], [`closed (${ch.closeReason ?? 'unknown'})`]) + this.#trapDetail(),
          );
        return;
      }
      case 'expect-data': {
        const ch = this.#channel(step, step.channel);
        if (!ch.data.equals(step.data))
          this.#fail(step, `the channel data of ${step.channel} differs`, diffLines([showFrame(step.data)], [showFrame(ch.data)]));
        return;
      }
      case 'expect-trap': {
        const trap = kit.traps[this.#trapsRead];
        const want = `${step.export}${step.channel === undefined ? '' : ` on ${step.channel}`}`;
        if (trap === undefined) this.#fail(step, 'the plugin did not trap', diffLines([`trap in ${want}`], ['(no trap)']));
        this.#trapsRead++;
        const channelId = step.channel === undefined ? undefined : this.#channel(step, step.channel).id;
        if (trap.export !== step.export || (channelId !== undefined && trap.channel !== channelId)) {
          this.#fail(
            step,
            'the plugin trapped elsewhere',
            diffLines([`trap in ${want}`], [`trap in ${trap.export} on ${this.#nameOf(trap.channel)}: ${trap.message}`]),
          );
        }
        return;
      }
      case 'expect-log': {
        const logs = kit.logs.slice(this.#logsRead);
        const at = logs.findIndex((l) => l.message === step.message && (step.level === undefined || l.level === step.level));
        if (at < 0)
          this.#fail(
            step,
            'the plugin did not log that',
            diffLines(
              [`${step.level ?? '*'}: ${step.message}`],
              logs.map((l) => `${l.level}: ${l.message}`),
            ),
          );
        this.#logsRead += at + 1;
        return;
      }
    }
  }

  #channel(step: SessionStep, name: string): TestChannel {
    const ch = this.#channels.get(name);
    if (ch === undefined) this.#fail(step, `no channel ${name} (connect: ${name} first)`, '');
    return ch!;
  }

  #nameOf(id: number): string {
    for (const [name, ch] of this.#channels) if (ch.id === id) return name;
    return id === 0 ? '(no channel)' : `#${id}`;
  }

  /** Runs a kit call; an exception from it (the kit refusing the step) is this step's failure. */
  #call<T>(step: SessionStep, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      return this.#fail(step, (err as Error).message, '');
    }
  }

  /** Traps no `expect-trap` has looked at yet, as detail lines (they often explain a mismatch). */
  #trapDetail(): string {
    const traps = this.#kit.traps.slice(this.#trapsRead);
    return traps.length === 0 ? '' : '\n' + traps.map((t) => `  (the plugin trapped in ${t.export} on ${this.#nameOf(t.channel)}: ${t.message})`).join('\n');
  }

  #fail(step: SessionStep, summary: string, diff: string): never {
    throw new TestMismatchError('PB_ERR_TEST_MISMATCH', this.#script.file, step.line, `step ${step.index + 1} (${describeStep(step)}): ${summary}`, diff);
  }
}

function sameFrames(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((f, i) => Buffer.compare(f, b[i]) === 0);
}

/** `send alice`, `advance 100`, … */
function describeStep(step: SessionStep): string {
  switch (step.action) {
    case 'advance':
      return `advance ${step.ms}`;
    case 'expect-group':
      return `expect-group ${step.group}`;
    case 'expect-upstream':
      return `expect-upstream ${step.service}`;
    case 'expect-trap':
      return `expect-trap ${step.export}`;
    case 'expect-log':
      return 'expect-log';
    default:
      return `${step.action} ${step.channel}`;
  }
}
