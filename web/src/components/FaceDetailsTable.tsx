import type { ReactNode } from 'react';
import type { FaceDetail } from '../api/types';
import { formatBoxShare, formatConfidence, formatDegrees } from '../lib/format';

export interface DetailRow {
  detail: FaceDetail;
  color: string;
  label: string;
  /** Extra leading cells, e.g. a crop or a similarity. */
  extra?: ReactNode;
}

/** Everything the API says about each face: confidence, pose, mask and the spoofing verdict. */
export function FaceDetailsTable({ rows, extraHeader, testId }: { rows: DetailRow[]; extraHeader?: ReactNode; testId?: string }) {
  if (rows.length === 0) return null;
  return (
    <table className="details" data-testid={testId}>
      <thead>
        <tr>
          <th>face</th>
          {extraHeader}
          <th title="detector score, 0–1">confidence</th>
          <th title="orientation.x, degrees">yaw</th>
          <th title="orientation.y, degrees">pitch</th>
          <th title="orientation.z, degrees">roll</th>
          <th>mask</th>
          <th title="sent with spoofing=true">spoofing</th>
          <th title="box width × height as a share of the image">box</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ detail: d, color, label, extra }, i) => (
          <tr key={i} data-testid="face-row">
            <td>
              <span className="swatch" style={{ background: color }} /> {label}
            </td>
            {extra}
            <td>{formatConfidence(d.confidence)}</td>
            <td>{d.orientation ? formatDegrees(d.orientation.x) : '—'}</td>
            <td>{d.orientation ? formatDegrees(d.orientation.y) : '—'}</td>
            <td>{d.orientation ? formatDegrees(d.orientation.z) : '—'}</td>
            <td>{d.mask === undefined ? '—' : d.mask ? <span className="badge warn">mask</span> : <span className="badge">no mask</span>}</td>
            <td>
              <SpoofBadge spoofing={d.spoofing} />
            </td>
            <td>{formatBoxShare(d.bbox)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpoofBadge({ spoofing }: { spoofing: boolean | undefined }) {
  if (spoofing === undefined) return <span className="muted">not checked</span>;
  return spoofing ? <span className="badge bad">spoof</span> : <span className="badge good">live</span>;
}
