import { useEffect, useState } from 'react';
import type { Cluster, Person, StoredFace } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { useAction } from '../../hooks/useAction';
import { groupPageHref } from '../../hooks/useHashRoute';
import { formatBoxShare, formatConfidence, shortId } from '../../lib/format';
import { useApi } from '../../session/keys';

interface Props {
  groupId: string;
  jobId: string;
  cluster: Cluster;
}

/** One cluster: its representative face (read by id: the job holds faceIds only) and a name to make it a person. */
export function ClusterRow({ groupId, jobId, cluster }: Props) {
  const api = useApi();
  const [face, setFace] = useState<StoredFace | null>(null);
  const [name, setName] = useState('');
  const [person, setPerson] = useState<Person | null>(null);
  const { run, busy, error } = useAction();

  useEffect(() => {
    let live = true;
    api.getFace(groupId, cluster.representativeFaceId).then((f) => live && setFace(f), () => undefined);
    return () => {
      live = false;
    };
  }, [api, groupId, cluster.representativeFaceId]);

  const toPerson = async () => {
    const p = await run(() => api.clusterToPerson(groupId, jobId, cluster.clusterId, name.trim() ? { name: name.trim() } : {}));
    if (p) setPerson(p);
  };

  return (
    <tr data-testid="cluster-row">
      <td>
        <code title={cluster.clusterId}>{shortId(cluster.clusterId)}</code>
      </td>
      <td className="num" data-testid="cluster-face-count">
        {cluster.faceCount}
      </td>
      <td data-testid="cluster-representative">
        <code title={cluster.representativeFaceId}>{shortId(cluster.representativeFaceId)}…</code>
        {face && (
          <span className="muted small">
            {' '}
            {face.externalImageId ?? 'no externalImageId'} · confidence {formatConfidence(face.confidence)} · box {formatBoxShare(face.bbox)}
          </span>
        )}
      </td>
      <td>
        <details className="small">
          <summary>{cluster.faceIds.length} ids</summary>
          <code>{cluster.faceIds.join(' ')}</code>
        </details>
      </td>
      <td>
        {person ? (
          <a href={groupPageHref('persons', groupId, person.personId)} data-testid="cluster-person-link">
            {person.name ?? 'person'} ({person.faceCount} faces) →
          </a>
        ) : (
          <span className="toolbar inline">
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name (optional)" className="narrow-name" data-testid="cluster-person-name" />
            <button type="button" disabled={busy} onClick={() => void toPerson()} data-testid="cluster-to-person">
              Make person
            </button>
          </span>
        )}
        <ErrorBanner error={error} />
      </td>
    </tr>
  );
}
