import type { KeepaliveJob } from '../../src/contract/jobs.js';
import type { WorkerContext } from '../context.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
export async function keepalive(_ctx: WorkerContext, _job: KeepaliveJob): Promise<void> {
  throw new Ds01Error(ErrorCode.Internal, 'keepalive is not available yet');
}
