import Table from 'cli-table3';
import type { LicenseResult } from '../workflows/license';
import { licenseInput, type LoadedSpec } from './spec';
import type { StartableOperation } from './nodes';

export const LICENSE_OPERATIONS = {
  'license-activation': 'licenseActivation',
  'license-deactivate': 'licenseDeactivate',
  'license-status': 'licenseStatus',
} as const;
export type LicenseOperation = keyof typeof LICENSE_OPERATIONS;

export function buildLicenseOperation(
  loaded: LoadedSpec,
  operation: LicenseOperation,
  options: { only?: string[]; force?: boolean } = {},
): StartableOperation {
  const input = licenseInput(loaded, options.only);
  const names = input.nodes.map((n) => n.name);
  const verb = {
    'license-activation': 'activate',
    'license-deactivate': 'deactivate',
    'license-status': 'check',
  }[operation];
  return {
    operation,
    workflowType: LICENSE_OPERATIONS[operation],
    cluster: input.cluster,
    hosts: names,
    input: operation === 'license-activation' ? { ...input, force: Boolean(options.force) } : input,
    summary: `${verb} the license of ${names.length} node(s) (${input.section.driver} driver)${options.force ? ', forced' : ''}`,
  };
}

export function renderLicense(result: LicenseResult): string {
  const table = new Table({
    head: ['node', 'outcome', 'expires', 'note'],
    colWidths: [null, null, null, 70],
    wordWrap: true,
  });
  for (const n of result.nodes)
    table.push([n.node, n.outcome.toUpperCase(), n.expires ?? '', n.reason ?? n.warning ?? '']);
  return [table.toString(), `${result.operation}: ${result.summary}`].join('\n');
}
