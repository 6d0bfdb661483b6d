import type { PlayInput } from '../common/play';

// ansible-playbook's --list-hosts, --list-tasks and --list-tags: what a playbook would do, read
// from the loaded (and so fully checked) playbook. No Temporal server is needed.

export type Listing = 'hosts' | 'tasks' | 'tags';

const tagText = (tags: string[]) => `TAGS: [${[...tags].sort().join(', ')}]`;

export function renderListing(input: PlayInput, what: Listing): string {
  const lines = [`playbook: ${input.source}`, ''];
  input.plays.forEach((play, i) => {
    lines.push(`  play #${i + 1} (${play.name}): ${play.name}\t${tagText([])}`);
    if (what === 'hosts') {
      lines.push(`    hosts (${play.hosts.length}):`, ...play.hosts.map((h) => `      ${h.target.name}`));
    } else if (what === 'tasks') {
      lines.push('    tasks:');
      for (const t of play.tasks)
        lines.push(`      ${t.role ? `${t.role} : ` : ''}${t.name}\t${tagText(t.tags)}`);
    } else {
      const all = [...new Set(play.tasks.flatMap((t) => t.tags))];
      lines.push(`      TASK ${tagText(all)}`);
    }
    lines.push('');
  });
  return lines.join('\n').trimEnd();
}
