import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import { shellQuote } from '../ssh/quote';
import type { StorageContext } from './context';

// The seeds' cross-node check: what one node writes to the shared mount, another sees.

export function crossCheckActivities({ remote, waitFor }: StorageContext) {
  return {
    /**
     * The seeds' cross-node test: a file created as the service user on one node is seen, with
     * that owner, on another, removed there, and gone on the first.
     */
    async storageCrossCheck(input: {
      writer: HostTarget;
      reader: HostTarget;
      mountPoint: string;
      user: string;
      uid: number;
      token: string;
    }): Promise<{ ms: number }> {
      const started = Date.now();
      const file = shellQuote(`${input.mountPoint}/.clusterflow-check-${input.token}`);
      const w = remote(input.writer);
      const rd = remote(input.reader);
      await w.must(
        `runuser -u ${shellQuote(input.user)} -- sh -c 'echo ${input.token} > '${shellQuote(file)}`,
        `writing ${file} as ${input.user}`,
      );
      // NFS attribute caches may hide a new file for a moment; a second is plenty.
      const seen = (
        await waitFor(rd, `stat -c '%u' ${file} && cat ${file}`, (out) => out.includes(input.token), 20)
      ).split('\n')[0];
      if (Number(seen) !== input.uid)
        throw ApplicationFailure.nonRetryable(
          `${input.reader.name}: ${file} is owned by uid ${seen}, expected ${input.user} (${input.uid})`,
          FailureTypes.CrossCheckFailed,
        );
      await rd.must(`rm -f ${file}`, `removing ${file}`);
      await waitFor(w, `test -e ${file} || echo gone`, (out) => out.includes('gone'), 20);
      return { ms: Date.now() - started };
    },
  };
}
