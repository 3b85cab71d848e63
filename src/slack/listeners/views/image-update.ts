import type { SlackRouter } from '../router.js';
import { findUserBySlackId } from '../../../config/ds01-config.js';
import { validatePackageRequest } from '../../../images/package-spec.js';
import { isDs01Error, userMessageOf } from '../../../shared/errors.js';
import { imageUpdateNoticeView } from '../../blocks/build.js';
import { PACKAGE_MODAL_IDS, readPackageModalValues, type PackageModalValues } from '../../blocks/package-modal.js';
import { notRegisteredForImages, readModalMetadata, startImageBuild } from '../../commands/image-update.js';
import type { BotDeps } from '../../deps.js';
import { claimBuild } from '../../build-claim.js';
import { ignoreRedelivery } from '../../delivery-dedupe.js';
import { newRequestId } from '../../../queue/jobs-client.js';

/**
 * view_submission of the package modal (callback_id image_update_submit). Everything is checked
 * before the ack (pure and in memory): a bad line is shown on its field and nothing is applied.
 * Only a fully valid submission closes the modal and starts the build.
 */
export function registerImageViews(app: SlackRouter, deps: BotDeps): void {
  // The identical submit delivered again is acknowledged and does nothing a second time.
  app.view(PACKAGE_MODAL_IDS.callbackId, ignoreRedelivery(deps), async ({ ack, body, view, client }) => {
    const slackUserId = body.user.id;
    const user = findUserBySlackId(deps.config, slackUserId);
    if (!user) {
      await ack({ response_action: 'update', view: imageUpdateNoticeView(notRegisteredForImages(deps.config, slackUserId)) });
      return;
    }
    const meta = readModalMetadata(view.private_metadata);
    if (!meta || meta.owner !== slackUserId) {
      await ack({
        response_action: 'errors',
        errors: {
          [PACKAGE_MODAL_IDS.pythonBlock]: 'This form is not one I opened for you, so I cannot use it. Please close it and run `/ds01 image-update <project>` again.',
        },
      });
      return;
    }
    let values: PackageModalValues;
    try {
      values = readPackageModalValues(view.state.values);
    } catch (err) {
      if (!isDs01Error(err)) deps.log.error({ err }, 'reading the package modal failed');
      await ack({ response_action: 'errors', errors: { [PACKAGE_MODAL_IDS.pythonBlock]: userMessageOf(err) } });
      return;
    }
    const result = validatePackageRequest(values);
    if (!result.ok) {
      await ack({ response_action: 'errors', errors: result.errors as Record<string, string> });
      return;
    }
    // Exactly once: the same packages for the same project, already on their way, start nothing new.
    const requestId = newRequestId();
    const fresh = await claimBuild(deps.redis, requestId, { uid: user.uid, project: meta.project, python: result.python, system: result.system, noCache: values.noCache }).catch(
      (err: unknown) => {
        deps.log.warn({ err: (err as Error).message }, 'could not check for a build already under way; going ahead');
        return true;
      },
    );
    if (!fresh) {
      await ack({
        response_action: 'update',
        view: imageUpdateNoticeView(`These packages are already being added to \`${meta.project}\`; the progress is in our DM. I started nothing new.`),
      });
      return;
    }
    await ack();
    try {
      await startImageBuild({ deps, client, slackUserId, user, meta, python: result.python, system: result.system, noCache: values.noCache, requestId });
    } catch (err) {
      deps.log.error({ err }, 'starting the image-update build failed');
    }
  });
}
