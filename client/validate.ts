import { setupPlaybooks } from './cluster';
import { buildNodeOperation } from './nodes';
import { databaseInput, licenseInput, loadSpec, SpecError, storageInput, type LoadedSpec } from './spec';

// `clusterflow validate`: every problem of a spec, each with the path of its field, before anything
// runs. The same resolvers guard every workflow start; here they all run and none stops the others.

export interface Validation {
  file: string;
  valid: boolean;
  sections: string[];
  problems: string[];
}

export function validateSpec(file: string, options: { inventory?: string } = {}): Validation {
  let loaded: LoadedSpec;
  try {
    loaded = loadSpec(file, options);
  } catch (err) {
    if (err instanceof SpecError) return { file, valid: false, sections: [], problems: err.problems };
    throw err;
  }
  const { spec } = loaded;
  const checks: [string, boolean, () => unknown][] = [
    ['database', Boolean(spec.database), () => databaseInput(loaded)],
    ['storage', Boolean(spec.storage), () => storageInput(loaded)],
    // nodes and loadBalancer resolve together; a maintenance play is loaded and checked too
    ['nodes', Boolean(spec.nodes), () => buildNodeOperation(loaded, 'rolling-maintenance')],
    ['license', Boolean(spec.license), () => licenseInput(loaded)],
    // what only cluster-setup runs: the first node's and the LB's install playbooks
    [
      'setup playbooks',
      Boolean(spec.nodes?.install || spec.nodes?.firstInstall || spec.loadBalancer?.install),
      () => setupPlaybooks(loaded),
    ],
  ];
  const problems: string[] = [];
  const sections: string[] = [];
  for (const [name, present, check] of checks) {
    if (!present) continue;
    sections.push(name);
    try {
      check();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      // Two checks reading the same section (nodes, then setup playbooks) report it once.
      problems.push(...err.problems.filter((p) => !problems.includes(p)));
    }
  }
  if (spec.loadBalancer && !spec.nodes) problems.push('loadBalancer: needs a nodes section (its members)');
  return { file, valid: problems.length === 0, sections, problems };
}
