/**
 * The memory policies, one record: the strategy names, config validation, CLI help and the experiment
 * tables are derived from it.
 */
import { dynamicPolicy } from "./dynamic.js";
import { linearPolicy } from "./linear.js";
import type { MemoryPolicy } from "./policy.js";
import { selectivePolicy } from "./selective.js";

export const MEMORY_POLICIES = { lm: linearPolicy, dm: dynamicPolicy, sm: selectivePolicy } as const satisfies Record<string, MemoryPolicy>;

export type MemoryKind = keyof typeof MEMORY_POLICIES;

export const MEMORY_KINDS = Object.keys(MEMORY_POLICIES) as MemoryKind[];

export function isMemoryKind(s: string): s is MemoryKind {
  return Object.hasOwn(MEMORY_POLICIES, s);
}

export type { MemoryPolicy } from "./policy.js";
