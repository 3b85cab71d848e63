import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { SlackRouter } from '../../src/slack/listeners/router.js';

/** The one Bolt middleware the bot installs: which handler each kind of request reaches. */
function installed(router: SlackRouter): (args: Record<string, unknown>) => Promise<unknown> {
  let middleware: ((args: unknown) => Promise<unknown>) | undefined;
  router.install({ use: (m: (args: unknown) => Promise<unknown>) => void (middleware = m) } as unknown as App);
  return (args) => middleware!({ ...args, next: async () => 'next' });
}

describe('SlackRouter', () => {
  it('sends each request to the handler for its command, button, modal or event, and anything else on to Bolt', async () => {
    const seen: string[] = [];
    const router = new SlackRouter({} as never);
    router.command('/ds01', async () => void seen.push('command'));
    router.actions.action('keepalive', async () => void seen.push('button'));
    router.view('image_update_submit', async () => void seen.push('modal'));
    router.event('app_home_opened', async () => void seen.push('home'));
    const run = installed(router);
    await run({ body: { command: '/ds01', text: 'help' } });
    await run({ body: { type: 'block_actions', actions: [{ action_id: 'keepalive' }] }, action: { action_id: 'keepalive' }, ack: async () => undefined });
    await run({ body: { type: 'view_submission', view: { callback_id: 'image_update_submit' } } });
    await run({ body: { type: 'event_callback', event: { type: 'app_home_opened' } } });
    expect(seen).toEqual(['command', 'button', 'modal', 'home']);
    // Not ours: another command, another modal, an event nobody listens to, a forged shape.
    for (const body of [
      { command: '/other' },
      { type: 'view_submission', view: { callback_id: 'x' } },
      { type: 'event_callback', event: { type: 'reaction_added' } },
      { type: 'view_submission' },
      {},
    ]) {
      expect(await run({ body })).toBe('next');
    }
    expect(seen).toHaveLength(4);
  });

  it('runs a modal middleware first; the handler runs only when it goes on', async () => {
    const seen: string[] = [];
    const router = new SlackRouter({} as never);
    let goOn = true;
    router.view(
      'm',
      async ({ next }) => {
        seen.push('before');
        if (goOn) await next();
      },
      async () => void seen.push('handler'),
    );
    const run = installed(router);
    await run({ body: { type: 'view_submission', view: { callback_id: 'm' } } });
    goOn = false;
    await run({ body: { type: 'view_submission', view: { callback_id: 'm' } } });
    expect(seen).toEqual(['before', 'handler', 'before']);
  });

  it('refuses a second handler for the same command, modal or event', () => {
    const router = new SlackRouter({} as never);
    router.command('/ds01', async () => undefined);
    router.view('m', async () => undefined);
    router.event('message', async () => undefined);
    expect(() => router.command('/ds01', async () => undefined)).toThrow(/two handlers for the command \/ds01/);
    expect(() => router.view('m', async () => undefined)).toThrow(/two handlers for the modal m/);
    expect(() => router.event('message', async () => undefined)).toThrow(/two handlers for the event message/);
    expect(router.registered()).toEqual({ commands: ['/ds01'], events: ['message'], actions: 0, views: 1 });
  });
});
