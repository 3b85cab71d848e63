import { describe, expect, it } from 'vitest';
import { ActionRouter } from '../../src/slack/listeners/actions/router.js';

describe('ActionRouter', () => {
  it('refuses a second handler for the same button (two listeners would both act on one click)', () => {
    const router = new ActionRouter();
    router.action('keepalive', async () => undefined);
    expect(() => router.action('keepalive', async () => undefined)).toThrow(/two handlers for the button keepalive/);
    expect(router.size).toBe(1);
  });
});
