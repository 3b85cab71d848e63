import { PassThrough } from 'node:stream';
import { SlackSimulator, type RecordedCall } from '../../src/local/slack-simulator.js';
import { interactionBody, postToApp, slashCommandBody } from '../../src/local/slack-signing.js';
import { freePort, newSigningSecret, startProcess, type Proc } from './processes.js';
import { docker, dockerHost, redisUrl, resetWorld, World, type TestUser } from './services.js';

/**
 * One running system for an end-to-end test: the Slack simulator, `npm run bot` and one or more
 * `npm run worker` processes, on the real Redis and Docker engine.
 */
export interface WorkerOptions {
  hostId?: string;
  gpus?: string;
  dockerHost?: string;
  env?: Record<string, string>;
}

export class Harness {
  readonly slack = new SlackSimulator();
  readonly signingSecret = newSigningSecret();
  bot!: Proc;
  workers = new Map<string, Proc>();
  private all: Proc[] = [];
  port = 0;
  /** Node flags for the bot and worker processes (the benchmark's `--profile` sets `--cpu-prof`). */
  nodeArgs: string[] = [];

  constructor(readonly world: World) {}

  async start(workers: WorkerOptions[] = [{}], botEnv: Record<string, string> = {}): Promise<this> {
    await resetWorld();
    await this.slack.start();
    this.port = await freePort();
    this.bot = startProcess('bot', 'src/main.ts', this.botEnv(this.port, botEnv), this.nodeArgs);
    await this.bot.waitForLine(/DS01 bot ready/);
    for (const w of workers) await this.startWorker(w);
    return this;
  }

  private botEnv(port: number, extra: Record<string, string>): Record<string, string> {
    return {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: this.signingSecret,
      SLACK_API_URL: this.slack.apiUrl,
      PORT: String(port),
      REDIS_URL: redisUrl(),
      DS01_CONFIG: this.world.configFile,
      ...extra,
    };
  }

  /** A second replica of the bot on the same Redis and Slack (as behind a load balancer); its events URL. */
  async startReplica(botEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const proc = startProcess(`bot-${port}`, 'src/main.ts', this.botEnv(port, botEnv), this.nodeArgs);
    this.all.push(proc);
    await proc.waitForLine(/DS01 bot ready/);
    return `http://127.0.0.1:${port}/slack/events`;
  }

  async startWorker(w: WorkerOptions = {}): Promise<Proc> {
    const hostId = w.hostId ?? 'gpu1';
    const proc = startProcess(
      `worker-${hostId}`,
      'workers/main.ts',
      {
        REDIS_URL: redisUrl(),
        DS01_CONFIG: this.world.configFile,
        DS01_HOST_ID: hostId,
        DOCKER_HOST: w.dockerHost ?? dockerHost(),
        DS01_GPUS: w.gpus ?? 'fake:4',
        DS01_HEARTBEAT_S: '1',
        DS01_JOB_LOCK_MS: '4000',
        ...w.env,
      },
      this.nodeArgs,
    );
    this.workers.set(hostId, proc);
    this.all.push(proc);
    await proc.waitForLine(/worker ready/);
    return proc;
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((w) => w.stop()));
    await this.bot?.stop();
    await this.slack.stop();
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  /** Sends `/ds01 <text>` as `user`; returns the HTTP ack and the response_url it was given. */
  async slash(user: TestUser, text: string): Promise<{ status: number; ack: Record<string, unknown>; responseUrl: string }> {
    const responseUrl = this.slack.responseUrl();
    const body = slashCommandBody({ text, user_id: user.slack_id, user_name: user.user, response_url: responseUrl });
    const res = await postToApp(this.eventsUrl, this.signingSecret, body, 'application/x-www-form-urlencoded');
    return { status: res.status, ack: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {}, responseUrl: new URL(responseUrl).pathname };
  }

  /** An interactivity request (click, submit) to the bot, or to the replica at `url`. */
  async interact(payload: unknown, url = this.eventsUrl): Promise<{ status: number; body: string }> {
    return postToApp(url, this.signingSecret, interactionBody(payload), 'application/x-www-form-urlencoded');
  }

  /** Slack's `app_home_opened` event for `user`'s Home tab, delivered once with its own event id. */
  async openHome(user: TestUser, eventId: string): Promise<{ status: number; body: string }> {
    return this.event({
      token: 'deprecated-verification-token',
      team_id: 'T0DS01',
      api_app_id: 'A0DS01BOT',
      type: 'event_callback',
      event_id: eventId,
      event_time: 1_700_000_700,
      event: { type: 'app_home_opened', user: user.slack_id, channel: `D${user.slack_id.slice(1)}`, tab: 'home', event_ts: '1700000700.000100' },
    });
  }

  async event(envelope: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return postToApp(this.eventsUrl, this.signingSecret, JSON.stringify(envelope), 'application/json', headers);
  }

  /** The reply posted to a slash command's response_url. */
  responseTo(responseUrl: string, timeoutMs = 15_000) {
    const path = responseUrl.startsWith('http') ? new URL(responseUrl).pathname : responseUrl;
    const made = this.slack.firstResponse(path);
    if (made) return Promise.resolve(made);
    // Not made yet: only calls from now on can be it.
    return this.slack.waitFor((c) => c.method === 'response_url' && c.args.response_url === path, timeoutMs, `a reply on ${responseUrl}`, this.slack.calls.length);
  }
}

/** All text in a Slack message (text + blocks), for assertions on what the user reads. */
export function messageText(args: Record<string, unknown>): string {
  const parts: string[] = [String(args.text ?? '')];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') parts.push(x);
        else walk(x);
      }
    }
  };
  walk(args.blocks);
  return parts.join('\n');
}

/** Whether a Slack call is a DM (new or updated) to `user`: the DM channel is `D` + their id's rest. */
export const dmTo =
  (user: TestUser) =>
  (c: RecordedCall): boolean =>
    (c.method === 'chat.postMessage' || c.method === 'chat.update') && String(c.args.channel).slice(1) === user.slack_id.slice(1);

/**
 * Runs `cmd` in a container the way a user's shell would (as the container's own user) and returns
 * its stdout, then its stderr (their interleaving is not fixed, so they are kept apart).
 */
export async function execIn(container: string, cmd: string[]): Promise<string> {
  const d = docker();
  const e = await d.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({});
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (b: Buffer) => (stdout += b.toString()));
  err.on('data', (b: Buffer) => (stderr += b.toString()));
  d.modem.demuxStream(stream, out, err);
  await new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  return stdout + stderr;
}
