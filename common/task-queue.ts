/** The task queue clients start workflows on and workers poll, unless configured otherwise. */
export const DEFAULT_TASK_QUEUE = 'clusterflow';
