import type { AllMiddlewareArgs, App, BlockAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../../shared/logger.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * Every button behind one Bolt listener, looked up by action_id. Bolt runs each listener's
 * matchers for every request (a slash command included), so a dozen `app.action` listeners cost
 * every ack; one listener and a map cost one lookup. Handlers keep Bolt's listener signature.
 */
export class ActionRouter {
  private readonly handlers = new Map<string, (args: ActionArgs) => Promise<void>>();

  constructor(private readonly log?: Logger) {}

  /** Same shape as `app.action(actionId, handler)`; an action_id has one handler. */
  action<A extends BlockAction = BlockAction>(actionId: string, handler: Middleware<SlackActionMiddlewareArgs<A>>): void {
    if (this.handlers.has(actionId)) throw new Error(`two handlers for the button ${actionId}`);
    this.handlers.set(actionId, handler as unknown as (args: ActionArgs) => Promise<void>);
  }

  get size(): number {
    return this.handlers.size;
  }

  /** The one Bolt listener: block_actions only, dispatched by the clicked element's action_id. */
  register(app: App): void {
    app.action<BlockAction>({ type: 'block_actions' }, async (args) => {
      const id = (args.action as { action_id?: string }).action_id ?? '';
      const handler = this.handlers.get(id);
      if (!handler) {
        // A button from an older version of the bot, or one we never made: acknowledged, nothing done.
        this.log?.info({ actionId: id.slice(0, 80) }, 'a click on a button this bot has no handler for; acknowledged');
        await args.ack();
        return;
      }
      await handler(args);
    });
  }
}
