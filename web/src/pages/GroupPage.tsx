import { useCallback, useEffect, useState } from 'react';
import type { GroupDetails } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { useAction } from '../hooks/useAction';
import { useApi } from '../session/keys';
import { FacesPanel } from './group/FacesPanel';
import { RegisterPanel } from './group/RegisterPanel';
import { SearchPanel, type FaceIdQuery } from './group/SearchPanel';
import { VerifyPanel } from './group/VerifyPanel';

/** One group: its details, registering faces, browsing them, 1:N search and 1:1 verify. */
export function GroupPage({ groupId }: { groupId: string }) {
  const api = useApi();
  const [details, setDetails] = useState<GroupDetails | null>(null);
  // Bumped after a register or delete so the face list and the count refresh.
  const [facesVersion, setFacesVersion] = useState(0);
  const [faceIdQuery, setFaceIdQuery] = useState<FaceIdQuery | null>(null);
  const [verifyFaceId, setVerifyFaceId] = useState('');
  const { run, error } = useAction();

  useEffect(() => {
    void run(() => api.getGroup(groupId)).then((d) => d && setDetails(d));
  }, [api, groupId, run, facesVersion]);

  const facesChanged = useCallback(() => setFacesVersion((v) => v + 1), []);
  const searchFace = useCallback((faceId: string) => {
    setFaceIdQuery({ faceId, requestedAt: Date.now() });
    document.getElementById('search')?.scrollIntoView({ behavior: 'smooth' });
  }, []);
  const verifyFace = useCallback((faceId: string) => {
    setVerifyFaceId(faceId);
    document.getElementById('verify')?.scrollIntoView({ behavior: 'smooth' });
  }, []);

  return (
    <>
      <section className="card">
        <p className="crumbs">
          <a href="#/groups">Groups</a> /
        </p>
        <h2 data-testid="group-title">{groupId}</h2>
        <ErrorBanner error={error} />
        {details && (
          <p className="summary" data-testid="group-details">
            <strong data-testid="group-face-count">{details.faceCount}</strong> {details.faceCount === 1 ? 'face' : 'faces'} · created {details.createTime} UTC
          </p>
        )}
      </section>
      <RegisterPanel groupId={groupId} onRegistered={facesChanged} />
      <FacesPanel groupId={groupId} version={facesVersion} onChanged={facesChanged} onSearch={searchFace} onVerify={verifyFace} />
      <SearchPanel groupId={groupId} faceIdQuery={faceIdQuery} />
      <VerifyPanel groupId={groupId} faceId={verifyFaceId} onFaceId={setVerifyFaceId} />
    </>
  );
}
