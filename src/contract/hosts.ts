import { z } from 'zod';

/**
 * What each worker publishes about its host (Redis, with a TTL): the bot answers `/ds01 status`,
 * `/ds01 gpus`, the App Home and picks a host for a launch from these, without touching Docker.
 */
export const HostGpu = z.object({
  slot: z.string(),
  uuid: z.string(),
  name: z.string(),
  gpuEq: z.number(),
  holder: z
    .object({
      container: z.string(),
      user: z.string(),
      /** The project it serves (the container's name for containers DS01 did not make). */
      project: z.string().optional(),
      /** When the GPU was given (DS01's label) or the container made. */
      since: z.string().nullable().optional(),
      /** False for a container outside DS01 (devcontainer, `docker run --gpus`) that holds it. */
      managed: z.boolean().default(true),
    })
    .nullable(),
});

export const HostContainer = z.object({
  /** The engine's id: what the bot claims a retirement by (absent from older workers). */
  id: z.string().optional(),
  name: z.string(),
  user: z.string(),
  project: z.string(),
  state: z.string(),
  image: z.string(),
  gpuUuids: z.array(z.string()),
  createdAt: z.string().nullable(),
  protected: z.boolean(),
  /** False for a container DS01 did not make, listed because the engine gives it a GPU. */
  managed: z.boolean().default(true),
  /** pip packages installed only inside this container (`name==version`), from the package notices. */
  onlyHere: z.array(z.string()).default([]),
});

/** Packages the project's Dockerfile adds (what `/ds01 image-update` shows as already added). */
export const ImagePackages = z.object({ python: z.array(z.string()), system: z.array(z.string()) });
export type ImagePackages = z.infer<typeof ImagePackages>;

export const HostImage = z.object({
  user: z.string(),
  uid: z.number(),
  project: z.string(),
  image: z.string(),
  createdAt: z.string(),
  /** Read from the project's Dockerfile (and the requirements.txt it installs); absent from older workers. */
  packages: ImagePackages.default({ python: [], system: [] }),
});
export type HostImage = z.infer<typeof HostImage>;

export const HostSnapshot = z.object({
  hostId: z.string(),
  updatedAt: z.iso.datetime(),
  gpuMode: z.enum(['nvidia', 'fake']),
  gpus: z.array(HostGpu),
  containers: z.array(HostContainer),
  images: z.array(HostImage),
  /** What one container can really get on this host (DS01's limits are clamped to it). */
  capacity: z.object({ cpus: z.number().positive(), memoryBytes: z.number().positive() }).optional(),
});
export type HostSnapshot = z.infer<typeof HostSnapshot>;
export type HostContainer = z.infer<typeof HostContainer>;
export type HostGpu = z.infer<typeof HostGpu>;

/** A snapshot older than this means the worker is gone. */
export const HOST_SNAPSHOT_TTL_S = 45;
