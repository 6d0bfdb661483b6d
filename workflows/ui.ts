import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { Phase } from '../common/search-attributes';

// What the Temporal Web UI shows of a running operation: the `Phase` search attribute (list
// column, filterable) and the execution's current details (markdown on its page).

export function showPhase(phase: string, details: string[] = []): void {
  upsertSearchAttributes([{ key: Phase, value: phase.slice(0, 250) }]);
  setCurrentDetails([`**${phase}**`, ...details].join('\n\n'));
}
