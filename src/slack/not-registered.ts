import type { Ds01Config } from '../config/ds01-config.js';

/**
 * The one answer for a Slack user the config doesn't list: what can't happen, whom to ask, and the
 * id the admins need. `what` names the refused action ("run anything", "change any image").
 */
export function notRegisteredText(config: Ds01Config, slackUserId: string, what = 'run anything'): string {
  return `You're not registered with DS01 on Slack yet, so I can't ${what} for you. Ask ${config.admin_contact} to add your Slack account (${slackUserId}) to the bot's user list.`;
}
