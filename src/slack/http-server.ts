import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HTTPReceiver } from '@slack/bolt';
import { handleOpsRequest, type OpsEndpoints } from '../shared/ops-server.js';
import type { Logger } from '../shared/logger.js';

/**
 * Slack's payloads are a few kilobytes (a modal submission with every field filled stays far below
 * 100 kB); anything over this is refused before it is read, signed or not.
 */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;
/** How long a refused connection may stay half-open (never read from) so its client can read the 413. */
const REFUSED_LINGER_MS = 2000;

/**
 * The bot's HTTP server in HTTP mode. It sits in front of Bolt's HTTPReceiver so that no request
 * body is buffered without a bound (Bolt reads the whole body before it checks the signature):
 *  - a declared Content-Length over the cap is answered 413 and the connection closed before a
 *    single body byte is read;
 *  - a chunked body is counted as it streams in and refused the moment it passes the cap;
 *  - a body within the cap is handed to Bolt already read (`rawBody`), which Bolt uses as is.
 * /healthz, /readyz and /metrics are served on the same port.
 */
export function createSlackHttpServer(opts: { receiver: HTTPReceiver; ops: OpsEndpoints; log: Logger; maxBodyBytes?: number }): Server {
  const max = opts.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const toBolt = (req: IncomingMessage, res: ServerResponse) => {
    try {
      opts.receiver.requestListener(req, res);
    } catch {
      // Bolt throws for paths it does not serve.
      if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };
  const server = createServer((req, res) => {
    if (handleOpsRequest(opts.ops, req, res)) return;
    if (req.method !== 'POST') return toBolt(req, res);
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= max)) return refuse(req, res, opts.log, max, 'content-length');
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > max) {
        refused = true;
        chunks.length = 0;
        refuse(req, res, opts.log, max, 'streamed');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.concat(chunks, size);
      toBolt(req, res);
    });
    req.on('error', () => {
      if (!res.headersSent) res.writeHead(400).end();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    opts.log.debug({ code: err.code, err: err.message }, 'malformed HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function refuse(req: IncomingMessage, _res: ServerResponse, log: Logger, max: number, how: 'content-length' | 'streamed'): void {
  log.warn({ path: req.url?.slice(0, 100), how, declared: req.headers['content-length']?.slice(0, 20), max }, 'refused an oversized request body');
  // Answered on the socket itself, not through `res`: Node's HTTP server would either go on reading
  // the body (keep-alive) or close the socket with the body still unread, which resets the
  // connection and can throw the 413 away before the client reads it. Instead: stop reading,
  // write the answer, half-close, and drop the connection a little later.
  const socket = req.socket;
  // Both: a flowing request (it has a 'data' listener) would otherwise resume its socket and go on
  // reading an oversized chunked body after the refusal.
  req.pause();
  socket.pause();
  const body = `request body over ${max} bytes\n`;
  socket.end(`HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
