import { useState } from 'react';
import { indexAlbum, isImageFile } from '../../lib/albumFiles';

interface Props {
  album: Map<string, File>;
  onChange(album: Map<string, File>): void;
}

/** Folder-picking attributes React does not type (Chrome, Edge, Firefox and Safari all take webkitdirectory). */
const FOLDER = { webkitdirectory: '', directory: '' } as Record<string, string>;

/** The user's album: a folder (with its subfolders) or some files; read here, never uploaded. */
export function AlbumPicker({ album, onChange }: Props) {
  const [count, setCount] = useState(0);
  const take = async (list: FileList | null) => {
    const files = [...(list ?? [])].filter(isImageFile);
    setCount(files.length);
    onChange(await indexAlbum(files));
  };
  return (
    <div className="toolbar">
      <label className="picker" data-testid="album-folder">
        <input type="file" multiple {...FOLDER} onChange={(e) => void take(e.target.files)} />
        <span className="picker-label">Album folder</span>
        <span className="picker-file">choose the folder you indexed</span>
      </label>
      <label className="picker" data-testid="album-files">
        <input type="file" multiple accept="image/jpeg,image/png" onChange={(e) => void take(e.target.files)} />
        <span className="picker-label">…or album photos</span>
        <span className="picker-file">choose JPEG/PNG files</span>
      </label>
      <span className="muted small" data-testid="album-summary">
        {album.size ? `${count} photos from your album, kept in this browser only` : 'no album chosen: results are listed without pictures'}
      </span>
    </div>
  );
}
