import { buildLicenseOperation } from '../../../client/license';
import { loadSpec } from '../../../client/spec';
import type { LicenseResult } from '../../../workflows/license';
import { onHost } from '../../../test/integration/helpers';
import { APPS } from '../lab';
import { execute, startSpec, type ChaosOperation } from './operation';

// The license activation, checked against each app node's own license tool.

export const licenseActivation: ChaosOperation = {
  name: 'license-activation',
  reset: `${APPS[1]} and ${APPS[2]} deactivated (seats freed), so each run activates two nodes`,
  async prepare() {
    for (const app of APPS.slice(1)) onHost(app, '/usr/local/bin/cfapp-license deactivate >/dev/null');
    return {};
  },
  start: (ctx) => startSpec(ctx, buildLicenseOperation(loadSpec(ctx.lab.spec), 'license-activation')),
  async resultMatches(result) {
    const r = result as LicenseResult;
    const problems: string[] = [];
    for (const app of APPS) {
      const active =
        onHost(app, '/usr/local/bin/cfapp-license check >/dev/null && echo yes || echo no') === 'yes';
      const said = r.nodes.find((n) => n.node === app)?.outcome;
      const saidActive = said === 'activated' || said === 'already-active';
      if (saidActive !== active) problems.push(`${app}: result says ${said}, host says active=${active}`);
    }
    return problems;
  },
  async rerun(ctx, prep) {
    const r = await execute<LicenseResult>(ctx, prep, licenseActivation);
    return r.nodes.filter((n) => n.outcome !== 'already-active').map((n) => `${n.node}: ${n.outcome}`);
  },
  netcutTarget: () => APPS[2],
  drains: false,
};
