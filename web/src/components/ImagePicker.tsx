import { useId, useState, type DragEvent } from 'react';

interface Props {
  label: string;
  file: File | null;
  onChange(file: File | null): void;
  testId: string;
}

/** Drop an image on the zone or click to pick one. JPEG and PNG are what the API accepts. */
export function ImagePicker({ label, file, onChange, testId }: Props) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const dropped = e.dataTransfer.files[0];
    if (dropped) onChange(dropped);
  };

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
        onChange={(e) => onChange(e.target.files?.[0] ?? null)}
        // the same file picked twice still counts as a change
        onClick={(e) => (e.currentTarget.value = '')}
      />
      <span className="picker-label">{label}</span>
      <span className="picker-file">{file ? `${file.name} · ${(file.size / 1024).toFixed(0)} KB` : 'drop a JPEG/PNG here or click to choose'}</span>
    </label>
  );
}
