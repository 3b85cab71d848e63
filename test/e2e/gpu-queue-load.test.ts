import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, messageText } from '../support/harness.js';
import { ADMIN, baseImage, docker, dockerHost, World, type TestUser } from '../support/services.js';
import { engine, ensureSecondEngine, resetEngine } from '../support/second-engine.js';

/**
 * 50 launches at once, from ten people, with two GPUs on two hosts (two real engines, two workers on
 * one Redis): exactly two containers get a GPU, never the same one, and the other 48 wait in a fair
 * order (everyone's first before anyone's second).
 */
describe('50 concurrent launches, two GPUs on two hosts', () => {
  const users: TestUser[] = Array.from({ length: 10 }, (_, i) => ({ slack_id: `U0LOAD${i}`, user: `load${i}`, uid: 2100 + i, group: 'student' }));
  const world = new World([...users, ADMIN]);
  const h = new Harness(world);
  let engineB = '';
  const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];

  beforeAll(async () => {
    engineB = await ensureSecondEngine();
    await resetEngine(engineB);
    await h.start([
      { hostId: 'gpuA', gpus: 'fake:1', dockerHost: dockerHost(), env: { DS01_HOST_TTL_S: '3' } },
      { hostId: 'gpuB', gpus: 'fake:1', dockerHost: engineB, env: { DS01_HOST_TTL_S: '3' } },
    ]);
    // Images already built on both hosts (the base image under each project's tag), so the launches
    // race for GPUs rather than for the build.
    for (const u of users) {
      for (const p of projects) {
        world.addProject(u, p);
        for (const d of [docker(), engine(engineB)]) await d.getImage(baseImage()).tag({ repo: `ds01-${u.uid}/${p}`, tag: 'latest' });
      }
    }
  });
  afterAll(async () => {
    await h.stop();
    await resetEngine(engineB);
  });

  it('two start, on different GPUs; 48 wait, in fair order', { timeout: 300_000 }, async () => {
    const sends = users.flatMap((u) => projects.map((p) => h.slash(u, `launch ${p}`)));
    const acks = await Promise.all(sends);
    expect(acks.every((a) => a.status === 200)).toBe(true);
    // Every launch was taken: queued on a host or waiting in the GPU queue. (A host whose snapshot took
    // longer to build than its TTL used to look down here, and all fifty were refused.)
    const replies = await Promise.all(acks.map((a) => h.responseTo(a.responseUrl, 120_000)));
    const refused = replies.map((c) => messageText(c.args)).filter((t) => !/queued on gpu[AB]|in line|waiting/i.test(t));
    expect(refused).toEqual([]);
    const listBoth = async () => [
      ...(await docker().listContainers({ all: true, filters: { label: ['ds01.managed=true'] } })),
      ...(await engine(engineB).listContainers({ all: true, filters: { label: ['ds01.managed=true'] } })),
    ];
    // Settled: 48 waiting (none still being checked) and at least two containers made.
    let text = '';
    let containers = await listBoth();
    const deadline = Date.now() + 240_000;
    while (!/48 launches waiting/.test(text) || /still checking/.test(text) || containers.length < 2) {
      if (Date.now() > deadline) {
        // Fails with what it saw instead of hanging to the test's timeout.
        const tail = (name: string, lines: string[]) => `${name}:\n${lines.slice(-15).join('\n')}`;
        throw new Error(
          [
            `never settled; /ds01 queue said:\n${text.slice(0, 1500)}`,
            `containers: ${containers.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`,
            tail('bot', h.bot.output),
            ...[...h.workers].map(([id, w]) => tail(id, w.output)),
          ].join('\n\n'),
        );
      }
      text = messageText((await h.slash(ADMIN, 'queue')).ack);
      containers = await listBoth();
    }

    expect(containers).toHaveLength(2);
    const uuids = containers.map((c) => c.Labels['ds01.gpu.uuids']);
    expect(new Set(uuids).size).toBe(2);
    // One on each host: each engine has exactly one.
    expect((await docker().listContainers({ all: true, filters: { label: ['ds01.managed=true'] } })).length).toBe(1);
    // Everyone's first waiting launch comes before anyone's second.
    const owners = [...text.matchAll(/\d+\. \*(\w+)\*/g)].map((m) => m[1]!);
    expect(new Set(owners.slice(0, 10)).size).toBe(10);
    expect(new Set(owners.slice(10, 20)).size).toBe(10);
  });
});
