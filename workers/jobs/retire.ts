import type { RetireJob } from '../../src/contract/jobs.js';
import type { WorkerContext } from '../context.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
export async function retire(_ctx: WorkerContext, _job: RetireJob): Promise<void> {
  throw new Ds01Error(ErrorCode.Internal, 'retire is not available yet');
}
