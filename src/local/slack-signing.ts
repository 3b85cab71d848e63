import { createHmac } from 'node:crypto';

/**
 * Slack's request signing (v0): what Slack puts on every request it sends an app. Used by the
 * local console and the tests to send requests the real Bolt receiver verifies.
 */
export function signSlackRequest(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const base = `v0:${timestamp}:${body}`;
  const signature = 'v0=' + createHmac('sha256', signingSecret).update(base).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

export interface SlashCommandFields {
  command?: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  response_url: string;
  trigger_id?: string;
}

/** The form body Slack sends for a slash command. */
export function slashCommandBody(f: SlashCommandFields): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: f.team_id ?? 'T0DS01',
    team_domain: 'ds01',
    channel_id: f.channel_id ?? 'C0GENERAL',
    channel_name: f.channel_name ?? 'general',
    user_id: f.user_id,
    user_name: f.user_name ?? f.user_id.toLowerCase(),
    command: f.command ?? '/ds01',
    text: f.text,
    api_app_id: 'A0DS01BOT',
    is_enterprise_install: 'false',
    response_url: f.response_url,
    trigger_id: f.trigger_id ?? `${Date.now()}.1234.${Math.random().toString(16).slice(2)}`,
  }).toString();
}

/** The form body Slack sends for interactivity (block_actions, view_submission…): payload=<json>. */
export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Posts a signed request to a Bolt HTTP receiver, as Slack would. */
export async function postToApp(
  url: string,
  signingSecret: string,
  body: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json',
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...signSlackRequest(signingSecret, body), ...extraHeaders },
    body,
  });
  return { status: res.status, body: await res.text() };
}
