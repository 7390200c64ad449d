import { useState } from 'react';
import type { VerifyData } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { FaceCrop } from '../../components/FaceCrop';
import { FaceDetailsTable } from '../../components/FaceDetailsTable';
import { ImagePicker } from '../../components/ImagePicker';
import { ThresholdSlider } from '../../components/ThresholdSlider';
import { useAction } from '../../hooks/useAction';
import { useObjectUrl } from '../../hooks/useObjectUrl';
import { MATCH_COLOR, NO_MATCH_COLOR } from '../../lib/colors';
import { formatSimilarity } from '../../lib/format';
import { useApi } from '../../session/keys';

interface Props {
  groupId: string;
  faceId: string;
  onFaceId(faceId: string): void;
}

/**
 * 1:1: POST /groups/{id}/faces/{faceId}/verify returns a similarity and no verdict; the slider
 * decides "same person" here, with the same ≥ rule the server uses elsewhere.
 */
export function VerifyPanel({ groupId, faceId, onFaceId }: Props) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [threshold, setThreshold] = useState(70);
  const [result, setResult] = useState<{ data: VerifyData; imageUrl: string } | null>(null);
  const { run, busy, error } = useAction();
  const url = useObjectUrl(file);

  const verify = async () => {
    if (!file || !url) return;
    const data = await run(() => api.verify(groupId, faceId.trim(), file, {}));
    if (data) setResult({ data, imageUrl: url });
  };

  const same = result ? result.data.similarity >= threshold : false;
  return (
    <section className="card" id="verify">
      <h3>Verify a face</h3>
      <div className="toolbar">
        <input value={faceId} onChange={(e) => onFaceId(e.target.value)} placeholder="faceId" className="wide" data-testid="verify-face-id" />
        <ImagePicker label="Image (its largest face)" file={file} onChange={(f) => (setFile(f), setResult(null))} testId="verify-picker" />
        <button type="button" disabled={busy || !file || !faceId.trim()} onClick={() => void verify()} data-testid="verify-run">
          {busy ? 'Verifying…' : 'Verify'}
        </button>
        <ThresholdSlider value={threshold} onChange={setThreshold} testId="verify-threshold" />
      </div>
      <ErrorBanner error={error} />
      {result && (
        <div className="search-result" data-testid="verify-result">
          <div className="query">
            <FaceCrop src={result.imageUrl} bbox={result.data.sourceFace.bbox} size={128} color={same ? MATCH_COLOR : NO_MATCH_COLOR} />
          </div>
          <div>
            <p className="verdict">
              similarity <strong data-testid="verify-similarity">{formatSimilarity(result.data.similarity)}</strong> with{' '}
              <code>{result.data.face.faceId}</code>
              {result.data.face.externalImageId && <> ({result.data.face.externalImageId})</>}
              {' → '}
              {same ? (
                <span className="badge good" data-testid="verify-verdict">
                  same person
                </span>
              ) : (
                <span className="badge" data-testid="verify-verdict">
                  different
                </span>
              )}{' '}
              <span className="muted">at threshold {threshold}</span>
            </p>
            <FaceDetailsTable rows={[{ detail: result.data.sourceFace, color: same ? MATCH_COLOR : NO_MATCH_COLOR, label: 'image' }]} />
          </div>
        </div>
      )}
    </section>
  );
}
