import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HostSnapshot } from '../src/contract/hosts.js';

/**
 * Prometheus metrics for one GPU host (DS01 already runs Prometheus and Grafana): jobs by kind and
 * outcome, how long they take, GPU allocation and retirements by reason. Served on
 * DS01_METRICS_PORT at /metrics when that is set.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly jobSeconds: Histogram<'kind'>;
  readonly retirements: Counter<'reason'>;
  readonly queueWaitSeconds: Histogram;
  /** Package notices sent (kind: offer = new packages offered, added = "the image has them now"). */
  readonly packageNotices: Counter<'kind'>;
  /**
   * In-container packages of retired containers, by whether they reached the image first
   * (outcome: added | lost). added / (added + lost) is the share package notices exist to raise.
   */
  readonly containerPackages: Counter<'outcome'>;
  private readonly gpus: Gauge<'state'>;
  private readonly containers: Gauge<'state'>;

  constructor(hostId: string) {
    this.registry.setDefaultLabels({ host: hostId });
    collectDefaultMetrics({ register: this.registry, prefix: 'ds01_worker_' });
    this.jobs = new Counter({ name: 'ds01_jobs_total', help: 'Jobs processed, by kind and outcome', labelNames: ['kind', 'outcome'], registers: [this.registry] });
    this.jobSeconds = new Histogram({
      name: 'ds01_job_duration_seconds',
      help: 'Time from a job starting on this worker to its end',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    this.queueWaitSeconds = new Histogram({
      name: 'ds01_job_queue_wait_seconds',
      help: 'Time from a job being added to the queue to this worker starting it',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300],
      registers: [this.registry],
    });
    this.retirements = new Counter({ name: 'ds01_retirements_total', help: 'Containers retired, by reason', labelNames: ['reason'], registers: [this.registry] });
    this.packageNotices = new Counter({ name: 'ds01_package_notices_total', help: 'Package notices sent, by kind', labelNames: ['kind'], registers: [this.registry] });
    this.containerPackages = new Counter({
      name: 'ds01_container_packages_total',
      help: 'Packages installed inside containers, counted at retirement: reached the image first (added) or not (lost)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.gpus = new Gauge({ name: 'ds01_gpus', help: 'GPU slots on this host, by state', labelNames: ['state'], registers: [this.registry] });
    this.containers = new Gauge({ name: 'ds01_containers', help: 'DS01 containers on this host, by Docker state', labelNames: ['state'], registers: [this.registry] });
  }

  /** Gauges follow the host snapshot the worker publishes anyway. */
  observeSnapshot(snap: HostSnapshot): void {
    const held = snap.gpus.filter((g) => g.holder).length;
    this.gpus.set({ state: 'allocated' }, held);
    this.gpus.set({ state: 'free' }, snap.gpus.length - held);
    this.containers.reset();
    for (const c of snap.containers) this.containers.inc({ state: c.state });
  }

  serve(port: number): Server {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body))
        .catch(() => res.writeHead(500).end());
    });
    server.listen(port);
    return server;
  }
}
