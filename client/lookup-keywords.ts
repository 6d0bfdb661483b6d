import { z } from 'zod';
import { WITH_LOOKUP_KEYS, type WithLookupKey } from '../common/lookup-loops';

// The loop keywords of a task: loop, with_items, with_dict, and a `with_<lookup>` for each lookup
// we run (common/lookups.ts). Their values are the lookup's terms, checked when the loop runs.

export const LOOP_KEYS = ['loop', 'with_items', 'with_dict', ...WITH_LOOKUP_KEYS] as const;

export const withLookupKeywords = Object.fromEntries(
  WITH_LOOKUP_KEYS.map((k) => [k, z.unknown().optional()]),
) as { [K in WithLookupKey]: z.ZodOptional<z.ZodUnknown> };
