import type { AlbumPhoto, PhotosData } from '../../api/types';
import { FaceCrop } from '../../components/FaceCrop';
import { FaceOverlay } from '../../components/FaceOverlay';
import { useObjectUrl } from '../../hooks/useObjectUrl';
import { MATCH_COLOR } from '../../lib/colors';
import { formatSimilarity, shortId } from '../../lib/format';

interface Props {
  result: PhotosData;
  album: Map<string, File>;
  personNames: Map<string, string>;
}

/** The photos found, best first: the user's own file with the matching faces outlined, or its ids when no picked file matches. */
export function PhotoGrid({ result, album, personNames }: Props) {
  const shown = result.photos.filter((p) => p.externalImageId !== undefined && album.has(p.externalImageId)).length;
  return (
    <>
      <p className="summary" data-testid="gallery-summary">
        {result.photoCount} {result.photoCount === 1 ? 'photo' : 'photos'} found, {shown} shown from your album
      </p>
      <div className="gallery" data-testid="gallery-grid">
        {result.photos.map((p) => (
          <PhotoCard key={p.imageId} photo={p} file={p.externalImageId !== undefined ? album.get(p.externalImageId) : undefined} personNames={personNames} />
        ))}
      </div>
    </>
  );
}

function PhotoCard({ photo, file, personNames }: { photo: AlbumPhoto; file?: File; personNames: Map<string, string> }) {
  const url = useObjectUrl(file ?? null);
  const label = (f: AlbumPhoto['faces'][number]) => `${f.personId ? `${personNames.get(f.personId) ?? 'person'} ` : ''}${formatSimilarity(f.similarity)}`;
  return (
    <figure className="photo" data-testid="gallery-photo" data-external-image-id={photo.externalImageId ?? ''}>
      {url ? (
        <FaceOverlay src={url} alt={photo.externalImageId ?? photo.imageId} testId="gallery-overlay" faces={photo.faces.map((f) => ({ bbox: f.bbox, color: MATCH_COLOR, label: label(f) }))} />
      ) : (
        <div className="no-file" data-testid="gallery-no-file">
          not among your files
        </div>
      )}
      <figcaption>
        <strong>{photo.externalImageId ?? <span className="muted">no externalImageId</span>}</strong>
        <span className="muted small">
          {' '}
          image {shortId(photo.imageId)}… · best {formatSimilarity(Math.max(...photo.faces.map((f) => f.similarity)))}
        </span>
        {url && (
          <span className="crops">
            {photo.faces.map((f) => (
              <FaceCrop key={f.faceId} src={url} bbox={f.bbox} size={48} color={MATCH_COLOR} title={label(f)} />
            ))}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
