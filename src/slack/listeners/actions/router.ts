import type { AllMiddlewareArgs, AnyMiddlewareArgs, BlockAction, Middleware, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Logger } from '../../../shared/logger.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/**
 * Every button, looked up by action_id (behind the SlackRouter, listeners/router.ts, which says why
 * not one Bolt listener each). Handlers keep Bolt's listener signature.
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

  /**
   * A click on any button, dispatched by the clicked element's action_id (the SlackRouter calls it
   * for every block_actions request, after its middleware for clicks).
   */
  readonly dispatch = async (args: AnyMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const a = args as unknown as ActionArgs;
    const id = (a.action as { action_id?: string } | undefined)?.action_id ?? '';
    const handler = this.handlers.get(id);
    if (!handler) {
      // A button from an older version of the bot, or one we never made: acknowledged, nothing done.
      this.log?.info({ actionId: id.slice(0, 80) }, 'a click on a button this bot has no handler for; acknowledged');
      await a.ack();
      return;
    }
    await handler(a);
  };
}
