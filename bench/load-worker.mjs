// The load generator of `npm run bench`, on its own thread: the Slack simulator on the main thread
// answers the bot's replies, and that work must not delay reading the acks timed here (it would
// slow our figure and not the floor's, which sends no replies). Plain JS: a worker thread does not
// inherit tsx's loader. Message in: { id, url, requests: [{ body, headers }] }, all sent at once.
// Message out: { id, results: [{ ms, status, body }] }.
//
// undici's request() on a keep-alive pool per target, not fetch(): fetch builds WHATWG streams and
// headers for every request. With request() both apps' p99 at C=100 fell from 35-50 ms to about
// 20 ms, so that much was this thread's own work (the same for both apps: noise on a 1.2x goal).
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { Pool } from 'undici';

const pools = new Map();
const poolFor = (url) => {
  const origin = new URL(url).origin;
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 200, pipelining: 1, keepAliveTimeout: 60_000 });
    pools.set(origin, pool);
  }
  return pool;
};

parentPort.on('message', async ({ id, url, requests }) => {
  const pool = poolFor(url);
  const path = new URL(url).pathname;
  const results = await Promise.all(
    requests.map(async ({ body, headers }) => {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path, headers, body });
        const text = await res.body.text();
        return { ms: performance.now() - t0, status: res.statusCode, body: text.slice(0, 300) };
      } catch (err) {
        return { ms: performance.now() - t0, status: 0, body: String(err) };
      }
    }),
  );
  parentPort.postMessage({ id, results });
});
