import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * The endpoints an orchestrator and Prometheus read, shared by the bot and the worker:
 *   GET /healthz  200 while the process runs (liveness)
 *   GET /readyz   200 when its dependencies answer (Redis), 503 with the reason when not
 *   GET /metrics  Prometheus text
 */
export interface OpsEndpoints {
  /** Resolves to null when ready, or to a short reason when not. */
  ready?: () => Promise<string | null>;
  metrics?: Registry;
}

/** Handles an ops request; returns false when the path is not one of ours. */
export function handleOpsRequest(ep: OpsEndpoints, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?', 1)[0];
  const text = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  switch (path) {
    case '/healthz':
      text(200, 'ok\n');
      return true;
    case '/readyz':
      if (!ep.ready) {
        text(200, 'ready\n');
        return true;
      }
      ep.ready().then(
        (reason) => (reason ? text(503, `not ready: ${reason}\n`) : text(200, 'ready\n')),
        (err: Error) => text(503, `not ready: ${err.message}\n`),
      );
      return true;
    case '/metrics': {
      const registry = ep.metrics;
      if (!registry) return false;
      registry.metrics().then(
        (body) => text(200, body, registry.contentType),
        () => text(500, 'metrics unavailable\n'),
      );
      return true;
    }
    default:
      return false;
  }
}

/** A server with only the ops endpoints (Socket Mode bot, worker). Resolves once listening. */
export function startOpsServer(ep: OpsEndpoints, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (!handleOpsRequest(ep, req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const READY_TIMEOUT_MS = 2000;

/** A readiness check for an ioredis client: PING within the client's own timeouts. */
export function redisReady(redis: { status: string; ping(): Promise<string> }): () => Promise<string | null> {
  return async () => {
    if (redis.status !== 'ready') return `Redis connection is ${redis.status}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`Redis did not answer PING within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([redis.ping().then(() => null), timeout]);
    } catch (err) {
      return `Redis did not answer PING (${(err as Error).message})`;
    } finally {
      clearTimeout(timer);
    }
  };
}
