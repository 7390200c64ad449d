import { useEffect, useState } from 'react';
import type { StoredFace } from '../../api/types';
import { formatBoxShare, formatConfidence } from '../../lib/format';
import { useApi } from '../../session/keys';

interface Props {
  groupId: string;
  faceId: string;
  busy: boolean;
  onDisassociate(): void;
}

/** One face of a person: the person gives faceIds only, so the face's details are read by id. */
export function PersonFaceRow({ groupId, faceId, busy, onDisassociate }: Props) {
  const api = useApi();
  const [face, setFace] = useState<StoredFace | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    api.getFace(groupId, faceId).then(
      (f) => live && setFace(f),
      () => live && setFace(null),
    );
    return () => {
      live = false;
    };
  }, [api, groupId, faceId]);

  return (
    <tr data-testid="person-face-row">
      <td>
        <code data-testid="person-face-id">{faceId}</code>
      </td>
      <td>{face?.externalImageId ?? <span className="muted">—</span>}</td>
      <td className="num">{face ? formatConfidence(face.confidence) : ''}</td>
      <td>{face ? formatBoxShare(face.bbox) : ''}</td>
      <td className="actions">
        <button type="button" onClick={onDisassociate} disabled={busy} data-testid="disassociate-face">
          disassociate
        </button>
      </td>
    </tr>
  );
}
