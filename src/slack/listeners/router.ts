import type {
  AllMiddlewareArgs,
  AnyMiddlewareArgs,
  App,
  Middleware,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../shared/logger.js';
import { ActionRouter } from './actions/router.js';

type Handler = (args: AnyMiddlewareArgs & AllMiddlewareArgs) => Promise<void>;

/**
 * Every listener of the bot behind one Bolt middleware, looked up by what the request is: the
 * command's name, the button's action_id (ActionRouter), the modal's callback_id, the event's type.
 *
 * Why not one `app.command` / `app.view` / `app.event` each: Bolt starts every listener's matcher
 * chain for every request, and each chain that does not match still costs its copies, closures and
 * promises. Measured in-process on `/ds01 help`, Bolt's processEvent called directly (BENCHMARKS.md
 * has the HTTP figures): with five listeners the bot spent 105–110 µs of CPU per request, with this
 * router 42–46 µs, where a bare Bolt app with one listener spends 70–87 µs. Handlers keep
 * Bolt's listener signature, and Bolt still verifies, parses, authorizes and acknowledges events.
 * A request nothing here handles goes on to Bolt unchanged (it has no listeners, so Bolt does what
 * it does for any unhandled request).
 */
export class SlackRouter {
  readonly actions: ActionRouter;
  private readonly commands = new Map<string, Handler>();
  private readonly views = new Map<string, Handler>();
  private readonly events = new Map<string, Handler>();
  /** What a click reaches: the button's handler, after `beforeActions` middleware when there is one. */
  private onAction: Handler;

  /** `client`: the app's own Web API client, for work that is not a reply to a request (the live Home). */
  constructor(
    readonly client: WebClient,
    private readonly log?: Logger,
  ) {
    this.actions = new ActionRouter(log);
    this.onAction = this.actions.dispatch;
  }

  /** Middleware every click passes first (like a listener middleware of `app.action`); it calls `next()` to go on. */
  beforeActions(before: Middleware<AnyMiddlewareArgs>): void {
    this.onAction = chained([before as unknown as Handler, this.actions.dispatch]);
  }

  /** Like `app.command(name, handler)`. */
  command(name: string, handler: Middleware<SlackCommandMiddlewareArgs>): void {
    this.add(this.commands, 'command', name, handler as unknown as Handler);
  }

  /** Like `app.view(callbackId, [before,] handler)` for view_submission; `before` calls `next()` to go on. */
  view(callbackId: string, handler: Middleware<SlackViewMiddlewareArgs<ViewSubmitAction>>): void;
  view(callbackId: string, before: Middleware<AnyMiddlewareArgs>, handler: Middleware<SlackViewMiddlewareArgs<ViewSubmitAction>>): void;
  view(callbackId: string, ...chain: unknown[]): void {
    this.add(this.views, 'modal', callbackId, chained(chain as Handler[]));
  }

  /** Like `app.event(type, handler)`. */
  event<T extends string>(type: T, handler: Middleware<SlackEventMiddlewareArgs<T>>): void {
    this.add(this.events, 'event', type, handler as unknown as Handler);
  }

  /** What is registered (the manifest test derives the Slack app's scopes and subscriptions from it). */
  registered(): { commands: string[]; events: string[]; actions: number; views: number } {
    return { commands: [...this.commands.keys()], events: [...this.events.keys()], actions: this.actions.size, views: this.views.size };
  }

  /** The one middleware, installed with `app.use` after Bolt's own. */
  install(app: App, before?: (args: AllMiddlewareArgs) => void): void {
    app.use((args) => {
      before?.(args);
      const handler = this.handlerFor(args);
      return handler ? handler(args) : args.next();
    });
  }

  private handlerFor(args: AnyMiddlewareArgs & AllMiddlewareArgs): Handler | undefined {
    const body = args.body as { type?: unknown; command?: unknown; view?: { callback_id?: unknown }; event?: { type?: unknown } };
    if (typeof body.command === 'string') return this.commands.get(body.command);
    switch (body.type) {
      case 'block_actions':
        return this.onAction;
      case 'view_submission':
        return typeof body.view?.callback_id === 'string' ? this.views.get(body.view.callback_id) : undefined;
      case 'event_callback':
        return typeof body.event?.type === 'string' ? this.events.get(body.event.type) : undefined;
      default:
        return undefined;
    }
  }

  private add(map: Map<string, Handler>, what: string, key: string, handler: Handler): void {
    if (map.has(key)) throw new Error(`two handlers for the ${what} ${key}`);
    map.set(key, handler);
  }
}

/** Middleware then handler, Bolt-style: each calls `next()` to go on to the one after it. */
function chained(chain: Handler[]): Handler {
  if (chain.length === 1) return chain[0]!;
  return (args) => {
    const step = (i: number): Promise<void> => chain[i]!({ ...args, next: i + 1 < chain.length ? () => step(i + 1) : async () => undefined } as never);
    return step(0);
  };
}
