// block / rescue / always as ansible-core runs them, over a play's flat task list in which each
// task knows the blocks it sits in (outermost first). Per host: a failure inside a block sends
// it to that block's rescue; a rescue that succeeds recovers it; always runs for every host that
// entered the block; a failure no rescue recovers goes out to the enclosing block, and out of
// the play at the top. Pure, so a workflow replays it and unit tests pin it.

export type BlockPart = 'block' | 'rescue' | 'always';

export interface BlockPlace {
  id: string;
  part: BlockPart;
}

export class BlockTracker {
  private readonly failedIn = new Set<string>();
  private readonly rescueFailed = new Set<string>();
  private readonly entered = new Set<string>();
  private readonly rescuable: Set<string>;
  private open: BlockPlace[] = [];

  /** `tasks`: each task's blocks, in play order, to know which blocks have a rescue. */
  constructor(tasks: (BlockPlace[] | undefined)[]) {
    this.rescuable = new Set(
      tasks.flatMap((b) => (b ?? []).filter((p) => p.part === 'rescue').map((p) => p.id)),
    );
  }

  private key = (host: string, id: string) => `${host}\u0000${id}`;

  /** Whether the host runs a task placed so: in the right part of every block around it. */
  runs(host: string, places: BlockPlace[] = []): boolean {
    return places.every((p) => {
      const k = this.key(host, p.id);
      if (p.part === 'block') return !this.failedIn.has(k);
      if (p.part === 'rescue') return this.failedIn.has(k) && !this.rescueFailed.has(k);
      return this.entered.has(k);
    });
  }

  /**
   * Moves to the next task: closes the blocks it is not in (settling their hosts) and enters the
   * new ones for the hosts that may run in them. Returns the hosts whose failure left the play,
   * and those a rescue recovered.
   */
  advance(places: BlockPlace[] = [], hosts: string[]): { failed: string[]; rescued: string[] } {
    const out = { failed: [] as string[], rescued: [] as string[] };
    let keep = 0;
    while (keep < this.open.length && keep < places.length && this.open[keep].id === places[keep].id) keep++;
    for (let depth = this.open.length - 1; depth >= keep; depth--) this.close(depth, hosts, out);
    // A block still open may have moved on to its rescue or always part.
    this.open = places.slice(0, keep);
    for (let depth = keep; depth < places.length; depth++) {
      const outer = places.slice(0, depth);
      for (const h of hosts) if (this.runs(h, outer)) this.entered.add(this.key(h, places[depth].id));
      this.open.push(places[depth]);
    }
    return out;
  }

  /** The end of the play: every open block closes. */
  finish(hosts: string[]): { failed: string[]; rescued: string[] } {
    return this.advance([], hosts);
  }

  /** A host failed a task placed so: where the failure goes. Returns true when it leaves the play. */
  fail(host: string, places: BlockPlace[] = []): boolean {
    for (let depth = places.length - 1; depth >= 0; depth--) {
      const p = places[depth];
      const k = this.key(host, p.id);
      if (p.part === 'block') {
        this.failedIn.add(k);
        return false;
      }
      if (p.part === 'rescue') {
        this.rescueFailed.add(k);
        return false;
      }
      // A failure in always goes out to the enclosing block at once.
    }
    return true;
  }

  private close(depth: number, hosts: string[], out: { failed: string[]; rescued: string[] }): void {
    const { id } = this.open[depth];
    const outer = this.open.slice(0, depth);
    for (const h of hosts) {
      const k = this.key(h, id);
      if (!this.failedIn.has(k)) continue;
      if (this.rescuable.has(id) && !this.rescueFailed.has(k)) out.rescued.push(h);
      else if (this.fail(h, outer)) out.failed.push(h);
    }
  }
}
