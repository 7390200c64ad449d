import { useState } from 'react';
import { ErrorBanner } from '../components/ErrorBanner';
import { GroupChooser } from '../components/GroupChooser';
import { ThresholdSlider } from '../components/ThresholdSlider';
import { useAction } from '../hooks/useAction';
import { groupPageHref } from '../hooks/useHashRoute';
import { useApi } from '../session/keys';
import { ClusterJobPanel } from './clusters/ClusterJobPanel';

/** The server's default (docs/persons.md, "Clustering"); the attach threshold follows it until moved. */
const DEFAULT_THRESHOLD = 80;

/**
 * Clustering (docs/persons.md): start a job over the group's faces, follow it, and turn clusters
 * into persons. The job's id is in the URL, so a reload or a shared link shows the same job.
 */
export function ClustersPage({ groupId, jobId }: { groupId?: string; jobId?: string }) {
  const api = useApi();
  const [threshold, setThreshold] = useState(DEFAULT_THRESHOLD);
  const [attachSet, setAttach] = useState<number | undefined>(undefined);
  const attach = Math.min(attachSet ?? threshold, threshold);
  const { run, busy, error } = useAction();

  const start = async () => {
    if (!groupId) return;
    const job = await run(() => api.startClustering(groupId, threshold, attach));
    if (job) location.hash = groupPageHref('clusters', groupId, job.jobId);
  };

  return (
    <>
      <section className="card">
        <h2>Clustering</h2>
        <p className="muted small">
          Groups the faces of a group into people, in the background: two clusters merge while the mean similarity over all pairs of their faces is at least
          the threshold. With the attach threshold below it, a face left alone joins the cluster it is most alike on average at or above the attach threshold. A cluster can then become a person in one click.
        </p>
        <GroupChooser page="clusters" groupId={groupId} />
        {groupId && (
          <div className="toolbar">
            <ThresholdSlider value={threshold} onChange={setThreshold} testId="cluster-threshold" />
            <label className="slider">
              attach <strong data-testid="cluster-attach-value">{attach}</strong>
              <input type="range" min={1} max={100} value={attach} onChange={(e) => setAttach(Number(e.target.value))} data-testid="cluster-attach" />
            </label>
            <button type="button" disabled={busy} onClick={() => void start()} data-testid="cluster-start">
              {busy ? 'Starting…' : 'Cluster all faces'}
            </button>
          </div>
        )}
        <ErrorBanner error={error} />
      </section>
      {groupId && jobId && <ClusterJobPanel key={jobId} groupId={groupId} jobId={jobId} />}
    </>
  );
}
