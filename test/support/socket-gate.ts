import { rmSync } from 'node:fs';
import net from 'node:net';

/**
 * A unix socket in front of a Docker engine's socket that the test can shut: while held, new and
 * open connections get no answer (as from an engine that hangs), and everything goes through again
 * on release. A worker pointed at it sees an engine that stalls, without touching the real one.
 */
export class SocketGate {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;

  constructor(
    private readonly upstreamPath: string,
    readonly path: string,
  ) {}

  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  async start(): Promise<this> {
    rmSync(this.path, { force: true });
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPath);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      const relay = (from: net.Socket, to: net.Socket) =>
        from.on('data', (chunk: Buffer) => {
          if (!this.held) return void to.write(chunk);
          from.pause();
          this.waiting.push(() => {
            to.write(chunk);
            from.resume();
          });
        });
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
    return this;
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }

  async stop(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
