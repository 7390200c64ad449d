import { useEffect, useState } from 'react';
import type { ClusterJob } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useAction } from '../../hooks/useAction';
import { useApi } from '../../session/keys';
import { ClusterRow } from './ClusterRow';

/** How often a queued or running job is asked about. */
const POLL_MS = 500;

/** GET /cluster-jobs/{jobId} until it has succeeded or failed: progress, then the clusters. */
export function ClusterJobPanel({ groupId, jobId }: { groupId: string; jobId: string }) {
  const api = useApi();
  const [job, setJob] = useState<ClusterJob | null>(null);
  const { run, error } = useAction();

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const poll = async () => {
      const j = await run(() => api.getClusterJob(groupId, jobId));
      if (!live || !j) return;
      setJob(j);
      if (j.state === 'queued' || j.state === 'running') timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, groupId, jobId, run]);

  return (
    <section className="card" id="cluster-job" data-testid="cluster-job">
      <h3>
        Job <code>{jobId}</code>
      </h3>
      <ErrorBanner error={error} />
      {job && (
        <>
          <p className="summary">
            <span className={`badge ${job.state === 'succeeded' ? 'good' : job.state === 'failed' ? 'bad' : ''}`} data-testid="cluster-state">
              {job.state}
            </span>{' '}
            <span className="progress">
              <span className="bar" style={{ width: `${job.percent}%` }} />
            </span>{' '}
            <span data-testid="cluster-percent">{job.percent}%</span> · threshold {job.threshold}, attach {job.attachThreshold} · started {job.createTime} UTC
          </p>
          {job.error && <div className="error">{job.error}</div>}
          {job.state === 'succeeded' && (
            <>
              <p className="summary" data-testid="cluster-summary">
                {job.faceCount} faces → {job.clusterCount} {job.clusterCount === 1 ? 'cluster' : 'clusters'}, {job.unclusteredFaceIds?.length ?? 0} unclustered
              </p>
              <table className="list" data-testid="clusters-table">
                <thead>
                  <tr>
                    <th>cluster</th>
                    <th>faces</th>
                    <th>representative face</th>
                    <th>faceIds</th>
                    <th>make a person</th>
                  </tr>
                </thead>
                <tbody>
                  {job.clusters?.map((c) => (
                    <ClusterRow key={c.clusterId} groupId={groupId} jobId={jobId} cluster={c} />
                  ))}
                </tbody>
              </table>
              {!!job.unclusteredFaceIds?.length && (
                <details className="small">
                  <summary>{job.unclusteredFaceIds.length} unclustered faces</summary>
                  <code>{job.unclusteredFaceIds.join(' ')}</code>
                </details>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
