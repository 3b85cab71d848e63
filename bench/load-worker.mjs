// The load generator of `npm run bench`, on its own thread: the Slack simulator on the main thread
// answers the bot's replies, and that work must not delay reading the acks timed here (it would
// slow our figure and not the floor's, which sends no replies). Plain JS: a worker thread does not
// inherit tsx's loader. Message in: { id, url, requests: [{ body, headers }] }, all sent at once.
// Message out: { id, results: [{ ms, status, body }] }.
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', async ({ id, url, requests }) => {
  const results = await Promise.all(
    requests.map(async ({ body, headers }) => {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { method: 'POST', headers, body });
        const text = await res.text();
        return { ms: performance.now() - t0, status: res.status, body: text.slice(0, 300) };
      } catch (err) {
        return { ms: performance.now() - t0, status: 0, body: String(err) };
      }
    }),
  );
  parentPort.postMessage({ id, results });
});
