import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKey } from '../../src/contract/queues.js';
import { Harness, messageText, dmTo, execIn } from '../support/harness.js';
import { HOUR, LifecycleDriver, MIN } from '../support/lifecycle.js';
import { ADMIN, ALICE, BOB, baseImage, docker, redis, World, type TestUser } from '../support/services.js';
import type { RecordedCall } from '../../src/local/slack-simulator.js';

const CAROL: TestUser = { slack_id: 'U0CAROL', user: 'carol', uid: 1003, group: 'student' };
const DAVE: TestUser = { slack_id: 'U0DAVE', user: 'dave', uid: 1004, group: 'student' };
const ERIN: TestUser = { slack_id: 'U0ERIN', user: 'erin', uid: 1005, group: 'student' };

/**
 * Retirement and DS01's limits, end to end: who may retire, what the owner and the channel are
 * told (with the real pip diff), idle and runtime warnings and retirement with time stepped by
 * the test, keep-alive, protected containers, and stopped containers past their hold time.
 */
describe('retire, idle and runtime limits', () => {
  const world = new World([ALICE, BOB, ADMIN, CAROL, DAVE, ERIN]);
  const h = new Harness(world);
  const lifecycle = new LifecycleDriver('gpu1');

  beforeAll(async () => {
    world.addProject(ALICE, 'pkgs');
    world.addProject(ALICE, 'byadmin');
    world.addProject(CAROL, 'idler');
    world.addProject(DAVE, 'keeper');
    world.addProject(ERIN, 'runner');
    // The scheduler's own checks are far apart: the test runs each check at a time it chooses.
    await h.start([{ hostId: 'gpu1', gpus: 'fake:8', env: { DS01_CHECK_INTERVAL_S: '86400' } }]);
    await lifecycle.ready();
  });
  afterAll(async () => {
    await lifecycle.close();
    await h.stop();
  });

  /** Waits for a Slack call made from now on (earlier calls of the same shape don't count). */
  const next = (pred: (c: RecordedCall) => boolean, timeoutMs = 60_000) => {
    const from = h.slack.calls.length;
    return h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && pred(c), timeoutMs);
  };

  async function launch(user: TestUser, project: string): Promise<number> {
    const running = next((c) => dmTo(user)(c) && /is running/.test(messageText(c.args)) && messageText(c.args).includes(`\`${project}\``), 90_000);
    const r = await h.slash(user, `launch ${project}`);
    await h.responseTo(r.responseUrl);
    await running;
    const info = await docker().getContainer(`${project}._.${user.uid}`).inspect();
    return Date.parse(info.Config.Labels['ds01.created_at']!);
  }

  const exists = async (name: string) => (await docker().listContainers({ all: true, filters: { name: [`^/${name.replace(/\./g, '\\.')}$`] } })).length > 0;

  it("bob cannot retire alice's project; nothing happens to it", async () => {
    await launch(ALICE, 'pkgs');
    const viaFlag = await h.slash(BOB, 'retire pkgs --user alice');
    expect(messageText((await h.responseTo(viaFlag.responseUrl)).args)).toMatch(/isn't yours/);
    const byName = await h.slash(BOB, 'retire pkgs');
    expect(messageText((await h.responseTo(byName.responseUrl)).args)).toMatch(/belongs to alice, so it isn't yours/);
    expect(await exists('pkgs._.1001')).toBe(true);
  });

  it('alice retires pkgs: she is asked first because einops would be lost, then the DM names it with a button to add it to the image', async () => {
    const installed = await execIn('pkgs._.1001', ['pip', 'install', 'einops==0.7.0']);
    expect(installed).toMatch(/Successfully installed einops/);
    const r = await h.slash(ALICE, 'retire pkgs');
    await h.responseTo(r.responseUrl);
    const ask = await h.slack.waitFor((c) => dmTo(ALICE)(c) && /would lose packages/.test(messageText(c.args)), 60_000);
    expect(messageText(ask.args)).toContain('`einops==0.7.0`');
    expect(await exists('pkgs._.1001')).toBe(true); // nothing stopped yet
    const buttons = (ask.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.action_id)).toEqual(['image_update_open', 'retire_anyway']);
    expect(JSON.parse(buttons[0]!.value)).toEqual({ project: 'pkgs', python: ['einops==0.7.0'] });

    await h.interact({
      type: 'block_actions',
      user: { id: ALICE.slack_id, username: 'alice', team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      container: { type: 'message', message_ts: String(ask.args.ts), channel_id: String(ask.args.channel), is_ephemeral: false },
      channel: { id: String(ask.args.channel), name: 'directmessage' },
      message: { type: 'message', ts: String(ask.args.ts), text: String(ask.args.text) },
      trigger_id: '1.2.4',
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: 'retire_anyway', block_id: 'b', value: buttons[1]!.value, action_ts: '1795710001.0' }],
    });
    const dm = await h.slack.waitFor((c) => dmTo(ALICE)(c) && /was retired/.test(messageText(c.args)), 60_000);
    const text = messageText(dm.args);
    expect(dm.method).toBe('chat.update'); // the same message, updated in place
    expect(dm.args.ts).toBe(ask.args.ts);
    expect(text).toContain('`einops==0.7.0`');
    expect(text).not.toContain('numpy'); // in the image: survives
    expect(text).toMatch(/What survived.*\/workspace/s);
    const button = JSON.stringify(dm.args.blocks);
    expect(button).toContain('image_update_open');
    expect(button).toContain('einops==0.7.0');
    expect(await exists('pkgs._.1001')).toBe(false);
    const line = await h.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0DS01NOTE' && /pkgs/.test(String(c.args.text)));
    expect(String(line.args.text)).toMatch(/alice's `pkgs` on gpu1 retired \(by user\) — freed GPU \d+ — ran/);
  });

  it('/ds01 retire --force skips the question', async () => {
    await launch(ALICE, 'pkgs');
    await execIn('pkgs._.1001', ['pip', 'install', 'rich==13.7.1']);
    const from = h.slack.calls.length;
    const r = await h.slash(ALICE, 'retire pkgs --force');
    await h.responseTo(r.responseUrl);
    const dm = await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= from && dmTo(ALICE)(c) && /pkgs` was retired/.test(messageText(c.args)), 60_000);
    expect(messageText(dm.args)).toContain('`rich==13.7.1`');
    expect(h.slack.calls.slice(from).some((c) => /would lose packages/.test(messageText(c.args)))).toBe(false);
  });

  it("an admin retires alice's container: alice is told an admin did it, and the channel says so", async () => {
    await launch(ALICE, 'byadmin');
    const r = await h.slash(ADMIN, 'retire byadmin --user alice');
    expect(messageText((await h.responseTo(r.responseUrl)).args)).toMatch(/Retiring alice's `byadmin`/);
    const dm = await h.slack.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === ALICE.slack_id && /byadmin` was retired/.test(messageText(c.args)), 60_000);
    expect(messageText(dm.args)).toMatch(/an admin retired it \(admin1\)/);
    await h.slack.waitFor((c) => c.args.channel === 'C0DS01NOTE' && /byadmin.*\(by admin: admin1\)/.test(String(c.args.text)));
    expect(await exists('byadmin._.1001')).toBe(false);
  });

  it('an idle container is warned at 80 % and 95 % of the idle timeout, then retired with the same DM and channel line', async () => {
    const t0 = await launch(CAROL, 'idler');
    // Student idle timeout: 0.5 h; 30 min start-up grace; idle after 3 idle checks in a row.
    await lifecycle.checkAt(t0 + 31 * MIN); // first CPU reading: counts as busy
    for (const m of [32, 33, 34]) expect((await lifecycle.checkAt(t0 + m * MIN)).warned).toBe(0); // idle since +32
    const first = next((c) => dmTo(CAROL)(c) && /alarm_clock/.test(messageText(c.args)));
    expect((await lifecycle.checkAt(t0 + 57 * MIN)).warned).toBe(1); // 25 of 30 min idle: 83 %
    const warning = await first;
    expect(messageText(warning.args)).toMatch(/`idler` on gpu1 has been idle .* for 80% of your idle timeout/);
    expect(JSON.stringify(warning.args.blocks)).toContain('"action_id":"keepalive"');
    const second = next((c) => dmTo(CAROL)(c) && /alarm_clock/.test(messageText(c.args)));
    expect((await lifecycle.checkAt(t0 + 61 * MIN)).warned).toBe(1); // 29 min: 97 %
    expect(messageText((await second).args)).toMatch(/95% of your idle timeout/);
    expect((await lifecycle.checkAt(t0 + 61.5 * MIN)).warned).toBe(0); // same point again: no second 95 % warning
    expect(await exists('idler._.1003')).toBe(true);
    const summary = await lifecycle.checkAt(t0 + 63 * MIN); // 31 min idle: retired
    expect(summary.retired).toBe(1);
    expect(await exists('idler._.1003')).toBe(false);
    const dm = await h.slack.waitFor((c) => dmTo(CAROL)(c) && /idler` was retired/.test(messageText(c.args)), 30_000);
    expect(messageText(dm.args)).toMatch(/idle for longer than your idle timeout/);
    await h.slack.waitFor((c) => c.args.channel === 'C0DS01NOTE' && /carol's `idler` on gpu1 retired \(idle\)/.test(String(c.args.text)));
  });

  it('[Keep alive] on a warning postpones the idle retirement', async () => {
    const t0 = await launch(DAVE, 'keeper');
    for (const m of [31, 32, 33, 34]) await lifecycle.checkAt(t0 + m * MIN);
    const warned = next((c) => dmTo(DAVE)(c) && /80%/.test(messageText(c.args)));
    await lifecycle.checkAt(t0 + 57 * MIN);
    const warning = await warned;
    const button = (warning.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')!.elements![0]!;
    const res = await h.interact({
      type: 'block_actions',
      user: { id: DAVE.slack_id, username: 'dave', team_id: 'T0DS01' },
      api_app_id: 'A0DS01BOT',
      team: { id: 'T0DS01', domain: 'ds01' },
      container: { type: 'message', message_ts: '1795710000.000100', channel_id: 'D0DAVE', is_ephemeral: false },
      channel: { id: 'D0DAVE', name: 'directmessage' },
      message: { type: 'message', ts: '1795710000.000100', text: String(warning.args.text) },
      trigger_id: '1.2.3',
      response_url: h.slack.responseUrl(),
      actions: [{ type: 'button', action_id: button.action_id, block_id: 'b', value: button.value, action_ts: '1795710001.0' }],
    });
    expect(res.status).toBe(200);
    const confirm = await h.slack.waitFor((c) => c.method === 'chat.update' && c.args.channel === 'D0DAVE' && /will not be retired/.test(messageText(c.args)), 30_000);
    expect(confirm.args.ts).toBe('1795710000.000100'); // the warning is replaced by the confirmation
    // Far past the idle timeout, but inside the 4-hour keep-alive: still running.
    await lifecycle.checkAt(t0 + 90 * MIN);
    expect(await exists('keeper._.1004')).toBe(true);
    // After the keep-alive ends, the idle limit applies again.
    await lifecycle.checkAt(t0 + 5 * HOUR);
    expect(await exists('keeper._.1004')).toBe(false);
  });

  it("/ds01 keepalive is capped at DS01's keepalive_max_duration_h", async () => {
    await launch(DAVE, 'keeper');
    const r = await h.slash(DAVE, 'keepalive keeper 100');
    expect(messageText((await h.responseTo(r.responseUrl)).args)).toMatch(/Keeping `keeper` alive/);
    const dm = await h.slack.waitFor((c) => dmTo(DAVE)(c) && /longest keep-alive DS01 allows/.test(messageText(c.args)), 30_000);
    expect(messageText(dm.args)).toMatch(/will not be retired .* before/);
    await docker().getContainer('keeper._.1004').remove({ force: true });
  });

  it('a busy container is warned at 75 % and 90 % of its longest run, then retired', async () => {
    const t0 = await launch(ERIN, 'runner');
    const info = await docker().getContainer('runner._.1005').inspect();
    const r = redis();
    try {
      // Its GPU is busy, so only the runtime limit applies.
      await r.hset(RedisKey.fakeGpuUtil('gpu1'), info.Config.Labels['ds01.gpu.uuids']!, '90');
    } finally {
      await r.quit();
    }
    const w75 = next((c) => dmTo(ERIN)(c) && /alarm_clock/.test(messageText(c.args)));
    await lifecycle.checkAt(t0 + 18.5 * HOUR);
    expect(messageText((await w75).args)).toMatch(/`runner` on gpu1 has used 75% of the longest run/);
    const w90 = next((c) => dmTo(ERIN)(c) && /alarm_clock/.test(messageText(c.args)));
    await lifecycle.checkAt(t0 + 22 * HOUR);
    expect(messageText((await w90).args)).toMatch(/used 90% of the longest run/);
    await lifecycle.checkAt(t0 + 24.1 * HOUR);
    expect(await exists('runner._.1005')).toBe(false);
    await h.slack.waitFor((c) => c.args.channel === 'C0DS01NOTE' && /erin's `runner` on gpu1 retired \(max runtime\)/.test(String(c.args.text)));
  });

  it('a protected container is never retired, and a container stopped outside the bot goes after its hold time', async () => {
    const now = Date.now();
    const make = async (name: string, project: string, labels: Record<string, string>) => {
      const c = await docker().createContainer({
        name,
        Image: baseImage(),
        Cmd: ['sleep', 'infinity'],
        Labels: { 'ds01.managed': 'true', 'ds01.user': 'alice', 'ds01.project': project, 'ds01.created_at': new Date(now - 48 * HOUR).toISOString(), ...labels },
        HostConfig: { Init: true },
      });
      await c.start();
      return c;
    };
    await make('guarded._.1001', 'guarded', { 'ds01.protected': 'true' });
    const stopped = await make('stopper._.1001', 'stopper', {});
    await stopped.stop({ t: 0 });
    const finished = Date.parse((await stopped.inspect()).State.FinishedAt);
    await lifecycle.checkAt(finished + 10 * MIN); // hold: 0.5 h for students
    expect(await exists('stopper._.1001')).toBe(true);
    await lifecycle.checkAt(finished + 31 * MIN);
    expect(await exists('stopper._.1001')).toBe(false);
    await h.slack.waitFor((c) => dmTo(ALICE)(c) && /stopper` was retired/.test(messageText(c.args)) && /stopped for longer/.test(messageText(c.args)), 30_000);
    await lifecycle.checkAt(now + 72 * HOUR);
    expect(await exists('guarded._.1001')).toBe(true);
    await docker().getContainer('guarded._.1001').remove({ force: true });
  });

  it('the worker dies mid-retire; the re-run finishes it with one DM and one channel line', async () => {
    await launch(ALICE, 'pkgs');
    await h.workers.get('gpu1')!.stop();
    const crashing = await h.startWorker({ hostId: 'gpu1', gpus: 'fake:8', env: { DS01_CHECK_INTERVAL_S: '86400', DS01_CRASH_AT: 'retire:after-stop' } });
    const r = await h.slash(ALICE, 'retire pkgs');
    await h.responseTo(r.responseUrl);
    await crashing.waitForLine(/crash point retire:after-stop/, 60_000);
    await crashing.exit();
    await h.startWorker({ hostId: 'gpu1', gpus: 'fake:8', env: { DS01_CHECK_INTERVAL_S: '86400' } });
    const before = h.slack.calls.length;
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= before && dmTo(ALICE)(c) && /pkgs` was retired/.test(messageText(c.args)), 60_000);
    await h.slack.waitFor((c) => h.slack.calls.indexOf(c) >= before && c.args.channel === 'C0DS01NOTE' && /pkgs/.test(String(c.args.text)), 30_000);
    expect(await exists('pkgs._.1001')).toBe(false);
    // A later, positive marker: by the time this answers, any duplicate would have been sent.
    // (`gpus` is answered in the ack itself.)
    const marker = await h.slash(ALICE, 'gpus');
    expect(messageText(marker.ack)).toMatch(/GPUs/);
    const lines = h.slack.calls.slice(before).filter((c) => c.args.channel === 'C0DS01NOTE');
    expect(lines).toHaveLength(1);
  });
});
