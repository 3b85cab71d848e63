import type { SlackRouter } from '../router.js';
import type { BotDeps } from '../../deps.js';
import { faqIndex } from '../../faq/ask.js';
import { registerAppHome } from './app-home.js';
import { registerDmQuestions } from './message.js';

/** Events API: DMs to the bot (FAQ) and the App Home. */
export function registerEvents(app: SlackRouter, deps: BotDeps): void {
  faqIndex(); // built once, at startup, not on the first question
  registerDmQuestions(app, deps);
  registerAppHome(app, deps);
}
