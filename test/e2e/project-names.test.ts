import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, messageText } from '../support/harness.js';
import { ALICE, docker, World } from '../support/services.js';

/**
 * Finding 12 of the trust issue: folder names Docker refuses as an image or container name
 * (`demo_`, `a-`, `a..b`) used to pass the check, reach the engine, fail three times and end in
 * "something went wrong". They are refused in the ack, with what is allowed, and nothing is queued.
 */
describe('project names Docker would refuse are refused at the slash command', () => {
  const world = new World();
  const h = new Harness(world);
  const BAD = ['demo_', 'a-', 'a..b'];

  beforeAll(async () => {
    for (const name of BAD) world.addProject(ALICE, name);
    await h.start([{ hostId: 'gpu1', gpus: 'fake:2' }]);
  });
  afterAll(() => h.stop());

  it('launch, image-update, keepalive and retire answer at once with the rule, and nothing reaches the engine', async () => {
    const texts = [...BAD.map((n) => `launch ${n}`), 'launch -- -a', 'image-update demo_', 'keepalive a- 2', 'retire a..b'];
    for (const text of texts) {
      const r = await h.slash(ALICE, text);
      expect(r.status, text).toBe(200);
      const said = messageText(r.ack);
      expect(said, text).toMatch(/is not a project name I can use/);
      expect(said, text).toMatch(/lowercase letters and digits.*start and end with a letter or digit/);
      expect(said, text).not.toMatch(/queued|went wrong/i);
    }
    // Other test files share this engine, so look only for what these names would have made.
    const containers = await docker().listContainers({ all: true });
    expect(containers.flatMap((c) => c.Names).filter((n) => BAD.some((b) => n.startsWith(`/${b}.`)))).toEqual([]);
    const images = await docker().listImages();
    expect(images.flatMap((i) => i.RepoTags ?? []).filter((t) => BAD.some((b) => t.startsWith(`ds01-1001/${b}:`)))).toEqual([]);
    // No reply ever went to a response_url: the ack was the whole answer.
    expect(h.slack.calls.filter((c) => c.method === 'response_url')).toHaveLength(0);
  });
});
