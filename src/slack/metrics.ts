import type { App } from '@slack/bolt';
import type { webApi } from '@slack/bolt';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { EVENTS_QUEUE, hostQueueName, RedisKey } from '../contract/queues.js';
import { LatencyHistogram } from '../shared/latency-histogram.js';
import { SUBCOMMANDS } from './commands/parse.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];
/** Label values come from Slack payloads: keep them to a short, fixed alphabet. */
const label = (s: unknown): string => (typeof s === 'string' && /^[A-Za-z0-9_.:/-]{1,64}$/.test(s) ? s : 'other');

/**
 * The bot's Prometheus metrics: how long requests and their acks take by subcommand (Slack gives up
 * after 3 s), Slack Web API errors by method, the outbox backlog (events from workers not yet
 * delivered to Slack) and the job queue depth per GPU host. Queue depths are read from BullMQ when
 * Prometheus scrapes, so they cost nothing in between.
 */
export class BotMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: LatencyHistogram;
  private readonly ackSeconds: LatencyHistogram;
  private readonly apiErrors: Counter<'method' | 'code'>;
  private readonly instrumented = new WeakSet<object>();
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly redis: Redis) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ds01_bot_' });
    // Observed twice for every request: histograms that allocate nothing (latency-histogram.ts says why).
    this.requestSeconds = new LatencyHistogram(
      'ds01_bot_request_duration_seconds',
      'Time from a Slack request arriving to its listeners finishing, by kind and subcommand',
      ['kind', 'subcommand'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.ackSeconds = new LatencyHistogram(
      'ds01_bot_ack_duration_seconds',
      'Time from a Slack request arriving to its ack (Slack waits at most 3 s), by kind and subcommand',
      ['kind', 'subcommand'],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.apiErrors = new Counter({
      name: 'ds01_bot_slack_api_errors_total',
      help: 'Slack Web API calls that failed, by method and error code',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
    const self = this;
    new Gauge({
      name: 'ds01_bot_outbox_backlog',
      help: 'Events from workers waiting to be delivered to Slack',
      registers: [this.registry],
      async collect() {
        const c = await self.queue(EVENTS_QUEUE).getJobCounts('waiting', 'delayed', 'active', 'prioritized');
        this.set(Object.values(c).reduce((a, b) => a + b, 0));
      },
    });
    new Gauge({
      name: 'ds01_bot_queue_depth',
      help: 'Jobs waiting or running on each GPU host queue, by state',
      labelNames: ['host', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const hosts = await self.redis.smembers(RedisKey.hostsIndex);
        for (const host of hosts.slice(0, 100)) {
          const c = await self.queue(hostQueueName(host)).getJobCounts('waiting', 'delayed', 'active', 'prioritized');
          for (const [state, n] of Object.entries(c)) this.set({ host: label(host), state }, n);
        }
      },
    });
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis });
      this.queues.set(name, q);
    }
    return q;
  }

  /** Counts failed Web API calls on this client (the outbox's and every listener's). */
  instrumentClient(client: webApi.WebClient): void {
    if (this.instrumented.has(client)) return;
    this.instrumented.add(client);
    const apiCall = client.apiCall.bind(client);
    client.apiCall = async (method, options) => {
      try {
        return await apiCall(method, options);
      } catch (err) {
        const e = err as { code?: string; data?: { error?: string } };
        this.apiErrors.inc({ method: label(method), code: label(e.data?.error ?? e.code) });
        throw err;
      }
    };
  }

  /**
   * Times every request through the app. Bolt hands each incoming request to `processEvent` with its
   * `ack`; wrapping both measures the same thing in HTTP and Socket Mode. The clients Bolt hands to
   * listeners are counted by `instrumentClient`, which the listeners' router calls for each request.
   */
  instrumentApp(app: App): void {
    this.instrumentClient(app.client);
    const processEvent = app.processEvent.bind(app);
    app.processEvent = (event) => {
      const start = performance.now();
      const { kind, subcommand } = requestLabels(event.body);
      const ack = event.ack;
      let acked = false;
      event.ack = (response) => {
        if (!acked) {
          acked = true;
          this.ackSeconds.observe(this.ackSeconds.series(kind, subcommand), (performance.now() - start) / 1000);
        }
        return ack(response);
      };
      return processEvent(event).finally(() => this.requestSeconds.observe(this.requestSeconds.series(kind, subcommand), (performance.now() - start) / 1000));
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** kind (command, action, view, event) and a low-cardinality name: the subcommand, action id, callback id or event type. */
export function requestLabels(body: unknown): { kind: string; subcommand: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.command === 'string') {
    const text = typeof b.text === 'string' ? b.text.slice(0, 64).trim() : '';
    const first = (text.split(' ', 1)[0] ?? '').toLowerCase() || 'help';
    // Only known subcommands become label values: what a user types must not mint new series.
    return { kind: 'command', subcommand: (SUBCOMMANDS as readonly string[]).includes(first) ? first : 'other' };
  }
  if (b.type === 'block_actions') {
    const actions = b.actions as Array<{ action_id?: unknown }> | undefined;
    return { kind: 'action', subcommand: label(actions?.[0]?.action_id) };
  }
  if (b.type === 'view_submission' || b.type === 'view_closed') {
    return { kind: 'view', subcommand: label((b.view as { callback_id?: unknown } | undefined)?.callback_id) };
  }
  if (b.type === 'event_callback') return { kind: 'event', subcommand: label((b.event as { type?: unknown } | undefined)?.type) };
  return { kind: 'other', subcommand: label(b.type) };
}
