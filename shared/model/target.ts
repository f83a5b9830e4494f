/**
 * Fleet targets as both sides see them (issue 14, docs/fleet.md): the name rule, where a target came from
 * and its lifecycle (its health, `TargetHealthSchema`, is in health.ts). A target is one swarm container on
 * one Docker engine; a relay without HIVE_TARGETS has exactly one, named `local`.
 */
import { z } from 'zod';

/** 1-32 of a-z, 0-9 and "-", not starting or ending with "-" (it travels in ids, URLs and metric labels). */
export const TARGET_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const TARGET_NAME_MESSAGE = 'must be 1-32 of a-z, 0-9 and "-", not starting or ending with "-"';
export const TargetNameSchema = z.string().regex(TARGET_NAME_RE, TARGET_NAME_MESSAGE);
/** The one target of a relay without HIVE_TARGETS (HIVE_TARGET_NAME renames it). */
export const DEFAULT_TARGET_NAME = 'local';
/** At most this many targets, configured and discovered together. */
export const MAX_TARGETS = 64;

/** Where a target came from: the default single target, HIVE_TARGETS, or a container's `org.hivescope.target` label. */
export const TargetSourceSchema = z.enum(['single', 'config', 'label']);
export type TargetSource = z.infer<typeof TargetSourceSchema>;

/**
 * starting: its planes are being made; running: made (its health says how it is); gone: its labelled
 * container was removed: its swarms stay in the graph, shown stale, until it returns.
 */
export const TargetLifecycleSchema = z.enum(['starting', 'running', 'gone']);
export type TargetLifecycle = z.infer<typeof TargetLifecycleSchema>;
