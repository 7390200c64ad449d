import { useState } from 'react';
import type { DetailOptions, FaceDetail } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { FaceDetailsTable } from '../components/FaceDetailsTable';
import { FaceOverlay } from '../components/FaceOverlay';
import { ImagePicker } from '../components/ImagePicker';
import { SpoofingOptions } from '../components/SpoofingOptions';
import { useAction } from '../hooks/useAction';
import { useObjectUrl } from '../hooks/useObjectUrl';
import { faceColor, SPOOF_COLOR } from '../lib/colors';
import { useApi } from '../session/keys';

/** POST /faces/detect: every face with box, 5 landmarks, pose, mask and (asked for) spoofing. */
export function DetectPage() {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [options, setOptions] = useState<DetailOptions>({ spoofing: true, spoofingCondition: 'balanced' });
  const [faces, setFaces] = useState<FaceDetail[] | null>(null);
  const { run, busy, error } = useAction();
  const url = useObjectUrl(file);

  const detect = async (image: File | null, opts: DetailOptions) => {
    setFaces(null);
    if (!image) return;
    const r = await run(() => api.detect(image, opts));
    if (r) setFaces(r.faceDetails);
  };

  const label = (f: FaceDetail, i: number) => `#${i + 1}${f.spoofing ? ' spoof' : ''}`;
  const color = (f: FaceDetail, i: number) => (f.spoofing ? SPOOF_COLOR : faceColor(i));

  return (
    <section className="card">
      <h2>Detect faces</h2>
      <div className="toolbar">
        <ImagePicker
          label="Image"
          file={file}
          testId="detect-picker"
          onChange={(f) => {
            setFile(f);
            void detect(f, options);
          }}
        />
        <SpoofingOptions value={options} onChange={setOptions} />
        <button type="button" disabled={!file || busy} onClick={() => void detect(file, options)} data-testid="detect-run">
          {busy ? 'Detecting…' : 'Detect'}
        </button>
      </div>
      <ErrorBanner error={error} />
      {faces && (
        <p className="summary" data-testid="detect-summary">
          {faces.length} {faces.length === 1 ? 'face' : 'faces'} detected
          {options.spoofing && ` · ${faces.filter((f) => f.spoofing).length} judged spoof (${options.spoofingCondition})`}
        </p>
      )}
      {url && (
        <div className="result">
          <FaceOverlay
            src={url}
            alt="uploaded image"
            testId="detect-overlay"
            faces={(faces ?? []).map((f, i) => ({ bbox: f.bbox, landmarks: f.landmarks, color: color(f, i), label: label(f, i) }))}
          />
          <FaceDetailsTable testId="detect-table" rows={(faces ?? []).map((f, i) => ({ detail: f, color: color(f, i), label: `#${i + 1}` }))} />
        </div>
      )}
      <p className="muted small">
        Landmarks are named by the side of the image (<code>leftEye</code> is the eye on the image's left). Yaw &gt; 0: the face turns to the image's right;
        pitch &gt; 0: up; roll &gt; 0: clockwise.
      </p>
    </section>
  );
}
