import { useId, useRef, useState, type DragEvent } from 'react';
import { megabytes, shrinkToFit, type ShrunkImage } from '../lib/shrinkImage';
import { serverSettings } from '../session/serverSettings';

interface Props {
  label: string;
  file: File | null;
  onChange(file: File | null): void;
  testId: string;
}

/** What the picker says about the file it handed on, kept beside that file. */
type Note = { file: File; shrunk: ShrunkImage } | { file: File; failed: string };

/**
 * Drop an image on the zone or click to pick one. JPEG and PNG are what the API accepts. A photo
 * over the server's upload cap is shrunk here first (lib/shrinkImage), and the picker says so.
 */
export function ImagePicker({ label, file, onChange, testId }: Props) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const [shrinking, setShrinking] = useState(false);
  const [note, setNote] = useState<Note | null>(null);
  // A second pick while the first is still shrinking wins; the first one's result is dropped.
  const generation = useRef(0);

  const take = async (picked: File | null) => {
    const mine = ++generation.current;
    setShrinking(false);
    if (!picked) return onChange(null);
    const { maxImageBytes } = await serverSettings();
    if (mine !== generation.current) return;
    if (picked.size <= maxImageBytes) return onChange(picked);
    setShrinking(true);
    try {
      const shrunk = await shrinkToFit(picked, maxImageBytes);
      if (mine !== generation.current) return;
      setNote({ file: shrunk.file, shrunk });
      onChange(shrunk.file);
    } catch (err) {
      if (mine !== generation.current) return;
      // Sent as it is: the server's -45020 answer then says what is wrong.
      setNote({ file: picked, failed: (err as Error).message });
      onChange(picked);
    } finally {
      if (mine === generation.current) setShrinking(false);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const dropped = e.dataTransfer.files[0];
    if (dropped) void take(dropped);
  };

  const shownNote = note && note.file === file ? note : null;
  return (
    <label
      htmlFor={inputId}
      className={`picker${dragging ? ' dragging' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <input
        id={inputId}
        type="file"
        accept="image/jpeg,image/png"
        onChange={(e) => void take(e.target.files?.[0] ?? null)}
        // the same file picked twice still counts as a change
        onClick={(e) => (e.currentTarget.value = '')}
      />
      <span className="picker-label">{label}</span>
      <span className="picker-file">
        {shrinking ? 'shrinking the photo to the upload limit…' : file ? `${file.name} · ${(file.size / 1024).toFixed(0)} KB` : 'drop a JPEG/PNG here or click to choose'}
      </span>
      {shownNote && 'shrunk' in shownNote && (
        <span className="picker-note" data-testid="image-shrunk">
          photo was {megabytes(shownNote.shrunk.originalBytes)}, over the server's upload limit: sent as {megabytes(shownNote.shrunk.file.size)}{' '}
          {shownNote.shrunk.width}×{shownNote.shrunk.height}
        </span>
      )}
      {shownNote && 'failed' in shownNote && (
        <span className="picker-note" data-testid="image-shrunk">
          photo is over the server's upload limit and could not be shrunk ({shownNote.failed}); sent as it is
        </span>
      )}
    </label>
  );
}
