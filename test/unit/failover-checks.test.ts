import type { MemberState } from '../../common/db';
import {
  chooseNewPrimary,
  confirmationBudget,
  judgeCheck,
  primaryByReplicas,
  startConfirmation,
  type ConfirmationRules,
} from '../../common/failover-checks';
import { link, member } from './db-fixtures';

const members = [1, 2, 3].map((n) => ({ name: `db${n}`, address: `10.0.0.${n}` }));
const down = (name: string, n: number) => member(name, n, { reachable: false, error: 'no answer' });
/** A replica whose IO thread lost its source (`connecting`), or still receives from it (`running`). */
const replicaOf = (
  name: string,
  n: number,
  source: number,
  ioState: 'connecting' | 'running' = 'connecting',
) => member(name, n, { replica: link(`10.0.0.${source}`, { ioState }) });

const primaryDown = [down('db1', 1), replicaOf('db2', 2, 1), replicaOf('db3', 3, 1)];
const nobodyAnswers = [down('db1', 1), down('db2', 2), down('db3', 3)];

const rules: ConfirmationRules = {
  cluster: 'c',
  failover: { checks: 3, replicaWaitSeconds: 120 },
  checksAllowed: 14,
  deadline: Number.MAX_SAFE_INTEGER,
  budgetInChecks: true,
  waitsForReplica: true,
};

/** Judges one probe per second, as the workflow does, until a verdict other than "check again". */
function confirm(probes: MemberState[][], over: Partial<ConfirmationRules> = {}, specPrimary = 'db1') {
  const r = { ...rules, ...over };
  let c = startConfirmation(members, probes[0], specPrimary);
  const judged = [];
  for (const [i, states] of probes.entries()) {
    const j = judgeCheck(c, states, members, r, i * 1000);
    judged.push(j);
    c = j.confirmation;
    if (j.verdict !== 'check-again') break;
  }
  return judged;
}
const verdicts = (judged: ReturnType<typeof confirm>) => judged.map((j) => j.verdict);
const last = (judged: ReturnType<typeof confirm>) => judged[judged.length - 1];

describe('who the primary is, for a failover', () => {
  it('is whom the answering replicas replicate from', () => {
    expect(primaryByReplicas(members, [down('db2', 2), replicaOf('db1', 1, 2), replicaOf('db3', 3, 2)])).toBe(
      'db2',
    );
    expect(primaryByReplicas(members, nobodyAnswers)).toBeUndefined();
  });

  it("is the spec's primary until a replica says otherwise", () => {
    expect(startConfirmation(members, nobodyAnswers, 'db1').primary).toBe('db1');
    const afterSwitchover = startConfirmation(members, [replicaOf('db1', 1, 2), down('db2', 2)], 'db1');
    expect([afterSwitchover.knownPrimary, afterSwitchover.primary]).toEqual(['db2', 'db2']);
  });
});

describe('the confirmation budget', () => {
  it('covers the checks, two replica net timeouts and a margin, counted in checks', () => {
    const replication = { netTimeoutSeconds: 3 };
    const failover = { checks: 3, intervalSeconds: 1 };
    expect(confirmationBudget({ failover, replication })).toEqual({ seconds: 14, checks: 14 });
    expect(confirmationBudget({ failover: { ...failover, intervalSeconds: 2 }, replication })).toEqual({
      seconds: 17,
      checks: 9,
    });
  });
});

describe('confirming the primary is down', () => {
  it('confirms after `checks` consecutive misses with no replica still receiving from it', () => {
    const judged = confirm([primaryDown, primaryDown, primaryDown, primaryDown]);
    expect(verdicts(judged)).toEqual(['check-again', 'check-again', 'confirmed']);
    expect(last(judged).note).toBeUndefined();
  });

  it('refuses when the primary answers and is writable', () => {
    const writable = [member('db1', 1, { readOnly: false }), replicaOf('db2', 2, 1, 'running')];
    expect(last(confirm([writable]))).toMatchObject({
      verdict: 'refuse',
      message: 'refused: the primary db1 answers and is writable; use db switchover for a planned change',
    });
  });

  it('takes a replica still receiving from the primary as a partition, and refuses when the budget is spent', () => {
    const partition = [down('db1', 1), replicaOf('db2', 2, 1, 'running'), replicaOf('db3', 3, 1)];
    const judged = confirm(Array(6).fill(partition), { checksAllowed: 4 });
    expect(verdicts(judged)).toEqual(['check-again', 'check-again', 'check-again', 'refuse']);
    expect(last(judged)).toMatchObject({
      message:
        'refused: could not confirm db1 is down in 4 checks (db2 still receive from db1); nothing was changed',
    });
  });

  it('counts again from none when the read-only primary answers', () => {
    const answers = [member('db1', 1), replicaOf('db2', 2, 1), replicaOf('db3', 3, 1)];
    const judged = confirm([primaryDown, primaryDown, answers, primaryDown, primaryDown, primaryDown]);
    expect(verdicts(judged)).toEqual([
      'check-again',
      'check-again',
      'check-again',
      'check-again',
      'check-again',
      'confirmed',
    ]);
    expect(judged[2].confirmation).toMatchObject({ confirmations: 0, lastDoubt: 'db1 answers (read-only)' });
  });

  it('names the misses so far when the checks run out without a doubt', () => {
    const judged = confirm([primaryDown, primaryDown, primaryDown], {
      failover: { checks: 5, replicaWaitSeconds: 120 },
      checksAllowed: 2,
    });
    expect(last(judged)).toMatchObject({
      verdict: 'refuse',
      message:
        'refused: could not confirm db1 is down in 2 checks (missed by 2 consecutive checks of the 5 needed); nothing was changed',
    });
  });

  it('keeps the clock deadline for histories from before the budget in checks', () => {
    const judged = confirm(Array(5).fill(primaryDown), {
      failover: { checks: 5, replicaWaitSeconds: 120 },
      budgetInChecks: false,
      checksAllowed: 1,
      deadline: 1500,
    });
    expect(verdicts(judged)).toEqual(['check-again', 'check-again', 'refuse']);
    expect(last(judged)).toMatchObject({
      message:
        'refused: could not confirm db1 is down in 3 checks (missed by 3 consecutive checks of the 5 needed); nothing was changed',
    });
  });
});

describe('a failover with no replica answering', () => {
  // db2 became primary in a switchover; the spec still names db1.
  const db2Down = [replicaOf('db1', 1, 2), down('db2', 2), replicaOf('db3', 3, 2)];

  it('waits for a replica, learns the primary from it, and does not spend the budget waiting', () => {
    const judged = confirm([nobodyAnswers, nobodyAnswers, db2Down, db2Down, db2Down], { checksAllowed: 3 });
    expect(verdicts(judged)).toEqual([
      'check-again',
      'check-again',
      'check-again',
      'check-again',
      'confirmed',
    ]);
    expect(judged[1].confirmation).toMatchObject({
      primary: 'db1',
      checksWaiting: 2,
      confirmations: 0,
      lastDoubt: 'no replica answers',
    });
    expect(judged[2].note).toBe('no replica answered for 2 s; waited');
    expect(judged[2].confirmation).toMatchObject({
      primary: 'db2',
      waitingSince: undefined,
      confirmations: 1,
    });
  });

  it('refuses when no replica answers within replicaWaitSeconds', () => {
    const judged = confirm(Array(5).fill(nobodyAnswers), { failover: { checks: 3, replicaWaitSeconds: 2 } });
    expect(verdicts(judged)).toEqual(['check-again', 'check-again', 'refuse']);
    expect(last(judged)).toMatchObject({
      message:
        'refused: no replica of c answered for 2 s (failover.replicaWaitSeconds); nobody to promote, nothing was changed',
    });
  });

  it("in histories from before the wait: confirms without replicas and keeps the spec's primary", () => {
    const old = { waitsForReplica: false };
    expect(verdicts(confirm([nobodyAnswers, nobodyAnswers, nobodyAnswers], old))).toEqual([
      'check-again',
      'check-again',
      'confirmed',
    ]);
    const judged = confirm([nobodyAnswers, db2Down], old);
    expect(judged[1].confirmation).toMatchObject({ primary: 'db1', lastDoubt: 'db1 answers (read-only)' });
  });
});

describe('choosing whom to promote', () => {
  const at = (name: string, n: number, position: string, over: Partial<MemberState> = {}) =>
    member(name, n, { gtidExecuted: position, gtidBinlogState: position, ...over });

  it('picks the most advanced replica', () => {
    expect(chooseNewPrimary([at('db2', 2, '0-1-10'), at('db3', 3, '0-1-12')])).toEqual({
      newPrimary: 'db3',
      flavour: 'mariadb',
      position: '0-1-12',
    });
  });

  it('keeps the spec order between equals', () => {
    expect(chooseNewPrimary([at('db2', 2, '0-1-12'), at('db3', 3, '0-1-12')])).toMatchObject({
      newPrimary: 'db2',
    });
  });

  it("takes the operator's candidate when it lacks nothing the most advanced has", () => {
    expect(chooseNewPrimary([at('db2', 2, '0-1-12'), at('db3', 3, '0-1-12')], 'db3')).toEqual({
      newPrimary: 'db3',
      flavour: 'mariadb',
      position: '0-1-12',
    });
  });

  it('refuses a candidate that would lose transactions the most advanced has', () => {
    expect(chooseNewPrimary([at('db2', 2, '0-1-12'), at('db3', 3, '0-1-10')], 'db3')).toEqual({
      refused: 'refused: db3 lacks 0-1-12 that db2 has; promoting it would lose them',
    });
  });

  it('refuses a candidate that is not a reachable replica', () => {
    expect(chooseNewPrimary([at('db2', 2, '0-1-12')], 'db1')).toEqual({
      refused: 'refused: db1 is not a reachable replica',
    });
  });

  it('tells the flavour, MariaDB when the probe could not', () => {
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    expect(chooseNewPrimary([at('m2', 2, `${uuid}:1-5`, { flavour: 'mysql' })])).toMatchObject({
      newPrimary: 'm2',
      flavour: 'mysql',
    });
    expect(chooseNewPrimary([at('db2', 2, '0-1-12', { flavour: undefined })])).toMatchObject({
      flavour: 'mariadb',
    });
  });
});
