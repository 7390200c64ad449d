import { useEffect, useState } from 'react';
import type { Person, PhotosData } from '../api/types';
import { ErrorBanner } from '../components/ErrorBanner';
import { GroupChooser } from '../components/GroupChooser';
import { ImagePicker } from '../components/ImagePicker';
import { ThresholdSlider } from '../components/ThresholdSlider';
import { useAction } from '../hooks/useAction';
import { groupPageHref } from '../hooks/useHashRoute';
import { useApi } from '../session/keys';
import { AlbumPicker } from './gallery/AlbumPicker';
import { PhotoGrid } from './gallery/PhotoGrid';

type Mode = 'person' | 'image';
/** How many persons the person select offers (the first page of the group's persons, oldest first). */
const LISTED_PERSONS = 200;

/**
 * "Find every photo of this person" (POST /photos/search), by person or by a probe image. facerec
 * keeps no images: the photos are the user's own files, picked here and matched by externalImageId
 * (lib/albumFiles), with the matching faces outlined on them. Nothing picked is uploaded.
 */
export function GalleryPage({ groupId, personId }: { groupId?: string; personId?: string }) {
  const api = useApi();
  const [album, setAlbum] = useState<Map<string, File>>(new Map());
  const [persons, setPersons] = useState<Person[]>([]);
  const [mode, setMode] = useState<Mode>('person');
  const [probe, setProbe] = useState<File | null>(null);
  const [threshold, setThreshold] = useState(80);
  const [result, setResult] = useState<PhotosData | null>(null);
  const list = useAction();
  const search = useAction();

  useEffect(() => {
    if (!groupId) return;
    void list.run(() => api.listPersons(groupId, LISTED_PERSONS)).then((p) => p && setPersons(p.items));
  }, [api, groupId, list.run]);

  const find = async () => {
    if (!groupId) return;
    const query = mode === 'person' ? (personId ? { personId } : null) : probe ? { image: probe } : null;
    if (!query) return;
    setResult(null); // the photos shown are always those of the query shown
    const data = await search.run(() => api.findPhotos(groupId, query, threshold, 100));
    if (data) setResult(data);
  };

  const names = new Map(persons.map((p) => [p.personId, p.name ?? 'unnamed']));
  return (
    <>
      <section className="card">
        <h2>Gallery</h2>
        <p className="muted small">
          Every photo of a person. facerec keeps no images, so choose your album here: its files stay in this browser and are matched to the answer by
          externalImageId (the file name, as <code>facerec index --external-id-from filename</code> or the Groups page registered them).
        </p>
        <GroupChooser page="gallery" groupId={groupId} />
        <AlbumPicker album={album} onChange={setAlbum} />
      </section>
      {groupId && (
        <section className="card">
          <div className="toolbar">
            <span className="segmented">
              <button type="button" className={mode === 'person' ? 'on' : ''} onClick={() => (setMode('person'), setResult(null))} data-testid="gallery-mode-person">
                by person
              </button>
              <button type="button" className={mode === 'image' ? 'on' : ''} onClick={() => (setMode('image'), setResult(null))} data-testid="gallery-mode-image">
                by image
              </button>
            </span>
            {mode === 'person' ? (
              <select value={personId ?? ''} onChange={(e) => (location.hash = groupPageHref('gallery', groupId, e.target.value))} data-testid="gallery-person">
                <option value="" disabled>
                  {persons.length ? 'choose a person' : 'no persons in this group'}
                </option>
                {persons.map((p) => (
                  <option key={p.personId} value={p.personId}>
                    {p.name ?? p.personId} ({p.faceCount})
                  </option>
                ))}
              </select>
            ) : (
              <ImagePicker label="Probe image (its largest face)" file={probe} onChange={(f) => (setProbe(f), setResult(null))} testId="gallery-probe" />
            )}
            <ThresholdSlider value={threshold} onChange={setThreshold} testId="gallery-threshold" />
            <button type="button" disabled={search.busy || (mode === 'person' ? !personId : !probe)} onClick={() => void find()} data-testid="gallery-search">
              {search.busy ? 'Searching…' : 'Find photos'}
            </button>
          </div>
          <ErrorBanner error={search.error ?? list.error} />
          {result && <PhotoGrid result={result} album={album} personNames={names} />}
        </section>
      )}
    </>
  );
}
