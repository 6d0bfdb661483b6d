import type { z } from 'zod';
import { unknownKeyMessage } from './suggest';

// One way to read what an operator wrote, shared by the cluster spec, the playbook's keywords and
// every module's arguments, so a problem reads alike wherever it is found.

export function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
    '',
  );
}

/** The keys a strict object declares, read from the schema that refused a key. */
function declaredKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

/**
 * Parses what an operator wrote with a strict schema; on failure, every problem as
 * `path: message`, one line per unknown key, with the key its object declares that it most
 * likely meant (`nodes.maintenance.drainTimeoutSecs: unknown key; did you mean drainTimeoutSeconds?`).
 */
export function parseStrict<S extends z.ZodType>(
  schema: S,
  data: unknown,
  /** Where `data` sits, put before every path (`['file']` for a module's arguments). */
  at: PropertyKey[] = [],
): { data: z.output<S>; problems?: undefined } | { data?: undefined; problems: string[] } {
  const parsed = schema.safeParse(data, {
    // zod hands the refusing object schema to the error map (`inst`); its shape knows the keys.
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? iss.keys.map((k) => unknownKeyMessage(k, declaredKeys(iss.inst))).join('\n')
        : undefined,
  });
  if (parsed.success) return { data: parsed.data };
  return {
    problems: parsed.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k, n) => `${formatPath([...at, ...i.path, k])}: ${i.message.split('\n')[n]}`)
        : [`${formatPath([...at, ...i.path]) || '(top)'}: ${i.message}`],
    ),
  };
}
