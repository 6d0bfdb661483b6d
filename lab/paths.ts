import path from 'node:path';

/** The repository root, for the tools folder and the git-ignored state folder. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Per-checkout state (dev server database, worker logs); git-ignored. */
export const STATE_DIR = process.env.CLUSTERFLOW_STATE_DIR ?? path.join(REPO_ROOT, '.state');

/**
 * The lab is one per machine (one bridge, one address range), so its state lives outside any
 * checkout: a fresh clone finds and cleans up a lab that an earlier one left behind.
 */
export const LAB_DIR = process.env.CLUSTERFLOW_LAB_DIR ?? '/var/lib/clusterflow/lab';

/** Built root filesystems, extracted, ready to be overlay lower layers. */
export const ROOTFS_DIR = process.env.CLUSTERFLOW_ROOTFS_DIR ?? '/var/lib/clusterflow/rootfs';

/** Rootfs tarballs keyed on their package list; survives `down` and new clones. */
export const CACHE_DIR = process.env.CLUSTERFLOW_CACHE_DIR ?? '/var/cache/clusterflow';
