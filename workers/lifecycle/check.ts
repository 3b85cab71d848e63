import type { WorkerContext } from '../context.js';
export async function lifecycleCheck(_ctx: WorkerContext): Promise<void> {}
