import { useState } from 'react';
import type { RegisterData } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FaceDetailsTable } from '../../components/FaceDetailsTable';
import { FaceOverlay } from '../../components/FaceOverlay';
import { ImagePicker } from '../../components/ImagePicker';
import { useAction } from '../../hooks/useAction';
import { useObjectUrl } from '../../hooks/useObjectUrl';
// externalImageId allows [a-zA-Z0-9_.\-:]; a file name is a good default once cleaned.
import { externalIdFromFileName } from '../../lib/albumFiles';
import { faceColor, NO_MATCH_COLOR } from '../../lib/colors';
import { shortId } from '../../lib/format';
import { useApi } from '../../session/keys';


/** POST /groups/{id}/faces: the largest `limit` faces of an image are added, the rest reported. */
export function RegisterPanel({ groupId, onRegistered }: { groupId: string; onRegistered(): void }) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [limit, setLimit] = useState(1);
  const [externalImageId, setExternalImageId] = useState('');
  const [result, setResult] = useState<RegisterData | null>(null);
  const { run, busy, error } = useAction();
  const url = useObjectUrl(file);

  const pick = (f: File | null) => {
    setFile(f);
    setResult(null);
    if (f) setExternalImageId(externalIdFromFileName(f.name));
  };
  const register = async () => {
    if (!file) return;
    const r = await run(() => api.register(groupId, file, limit, externalImageId.trim(), {}));
    if (r) {
      setResult(r);
      onRegistered();
    }
  };

  const added = result ? result.addedFaceDetails.map((d, i) => ({ detail: d, color: faceColor(i), label: shortId(result.addedFaces[i].faceId) })) : [];
  const notAdded = result ? result.notAddedFaces.map((d) => ({ detail: d, color: NO_MATCH_COLOR, label: 'not added' })) : [];

  return (
    <section className="card" id="register">
      <h3>Register faces from an image</h3>
      <div className="toolbar">
        <ImagePicker label="Image" file={file} onChange={pick} testId="register-picker" />
        <label>
          limit{' '}
          <input type="number" min={1} max={20} value={limit} onChange={(e) => setLimit(Number(e.target.value))} className="narrow" data-testid="register-limit" />
        </label>
        <label>
          externalImageId{' '}
          <input value={externalImageId} onChange={(e) => setExternalImageId(e.target.value)} placeholder="optional" data-testid="register-external-id" />
        </label>
        <button type="button" disabled={!file || busy} onClick={() => void register()} data-testid="register-run">
          {busy ? 'Registering…' : 'Register'}
        </button>
      </div>
      <ErrorBanner error={error} />
      {result && (
        <p className="summary" data-testid="register-summary">
          {result.addedFaceCount} added, {result.notAddedFaceCount} not added
          <span className="muted"> (beyond limit, too small or turned away, or the group is full)</span>
        </p>
      )}
      {url && (
        <div className="result">
          <FaceOverlay
            src={url}
            alt="image to register"
            testId="register-overlay"
            faces={[
              ...added.map((a) => ({ bbox: a.detail.bbox, landmarks: a.detail.landmarks, color: a.color, label: a.label })),
              ...notAdded.map((n) => ({ bbox: n.detail.bbox, color: n.color, label: n.label, dashed: true })),
            ]}
          />
          <FaceDetailsTable rows={[...added, ...notAdded]} testId="register-table" />
        </div>
      )}
    </section>
  );
}
