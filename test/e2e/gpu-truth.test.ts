import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, messageText } from '../support/harness.js';
import { ALICE, BOB, baseImage, docker, World } from '../support/services.js';
import { fakeGpuUuid } from '../../workers/gpu/inventory.js';

/**
 * One truth about GPUs: a container made outside DS01 (a plain `docker run --gpus 1`, a devcontainer)
 * carries its GPU only in its device request or NVIDIA_VISIBLE_DEVICES, with no ds01.* label. The
 * worker reads those from the engine, so the GPU is never handed out a second time.
 */
describe('GPUs held outside DS01 labels are never given out again (real engine)', () => {
  const world = new World();
  const h = new Harness(world);
  const outside: string[] = [];

  beforeAll(async () => {
    world.addProject(ALICE, 'demo');
    world.addProject(BOB, 'other');
    await h.start([{ hostId: 'gpu1', gpus: 'fake:3' }]);
    const d = docker();
    // `docker run --gpus 1 …`: Count 1, no labels (created, as this engine has no NVIDIA runtime to start it).
    const byCount = await d.createContainer({
      name: `plain-gpu-${process.pid}`,
      Image: baseImage(),
      Cmd: ['sleep', '1000'],
      HostConfig: { DeviceRequests: [{ Driver: '', Count: 1, DeviceIDs: [], Capabilities: [['gpu']] }] },
    });
    outside.push(byCount.id);
    // A devcontainer naming GPU 2 by env only, and a label that lies (says no GPU at all).
    const byEnv = await d.createContainer({
      name: `devcontainer-${process.pid}`,
      Image: baseImage(),
      Cmd: ['sleep', '1000'],
      Env: [`NVIDIA_VISIBLE_DEVICES=${fakeGpuUuid('gpu1', 2)}`],
      Labels: { 'ds01.gpu.uuids': '' },
    });
    outside.push(byEnv.id);
  });
  afterAll(async () => {
    await Promise.all(
      outside.map((id) =>
        docker()
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await h.stop();
  });

  const finalMessage = (slackUser: string, project: string) =>
    h.slack.waitFor(
      (c) =>
        (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
        /is running|did not go through|in line|in use/.test(messageText(c.args)) &&
        messageText(c.args).includes(`\`${project}\``) &&
        String(c.args.channel).endsWith(slackUser.slice(1)),
      90_000,
      `the final launch message for ${project}`,
    );

  it('/ds01 gpus shows the two outside containers holding GPU 0 and GPU 2', async () => {
    // The worker publishes its snapshot every second; ask until it shows both held.
    let text = '';
    while (!/1 of 3 free/.test(text)) {
      text = messageText((await h.slash(ALICE, 'gpus')).ack);
    }
    expect(text).toMatch(/GPU 0[^\n]*plain-gpu-/);
    expect(text).toMatch(/GPU 2[^\n]*devcontainer-/);
    expect(text).toMatch(/GPU 1[^\n]*free/);
  });

  it('alice gets the one GPU nobody holds, GPU 1', async () => {
    await h.slash(ALICE, 'launch demo');
    const done = await finalMessage(ALICE.slack_id, 'demo');
    expect(messageText(done.args)).toMatch(/is running/);
    const info = await docker().getContainer('demo._.1001').inspect();
    expect(info.Config.Labels['ds01.gpu.uuids']).toBe(fakeGpuUuid('gpu1', 1));
  });

  it('bob finds no GPU free: nothing of his is started on a GPU someone holds', async () => {
    await h.slash(BOB, 'launch other');
    const done = await finalMessage(BOB.slack_id, 'other');
    expect(messageText(done.args)).not.toMatch(/is running/);
    const mine = await docker().listContainers({ all: true, filters: { name: ['other._.1002'] } });
    expect(mine).toHaveLength(0);
  });
});
