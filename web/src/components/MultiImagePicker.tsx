import { useId, useState } from 'react';
import { shrinkToFit } from '../lib/shrinkImage';
import { serverSettings } from '../session/serverSettings';

interface Props {
  label: string;
  files: File[];
  onChange(files: File[]): void;
  max: number;
  testId: string;
}

/**
 * Several JPEG/PNG photos at once (a person's enrolment photos). As the single picker does, a
 * photo over the server's upload cap is shrunk here first; at most `max` are kept.
 */
export function MultiImagePicker({ label, files, onChange, max, testId }: Props) {
  const inputId = useId();
  const [busy, setBusy] = useState(false);
  const [leftOut, setLeftOut] = useState(0);

  const take = async (picked: File[]) => {
    setBusy(true);
    setLeftOut(Math.max(0, picked.length - max));
    try {
      const { maxImageBytes } = await serverSettings();
      const fitted = await Promise.all(
        picked.slice(0, max).map(async (f) => (f.size <= maxImageBytes ? f : (await shrinkToFit(f, maxImageBytes).catch(() => null))?.file ?? f)),
      );
      onChange(fitted);
    } finally {
      setBusy(false);
    }
  };

  return (
    <label htmlFor={inputId} className="picker" data-testid={testId}>
      <input id={inputId} type="file" multiple accept="image/jpeg,image/png" onChange={(e) => void take([...(e.target.files ?? [])])} onClick={(e) => (e.currentTarget.value = '')} />
      <span className="picker-label">{label}</span>
      <span className="picker-file" data-testid={`${testId}-count`}>
        {busy ? 'shrinking photos to the upload limit…' : files.length ? `${files.length} photo${files.length === 1 ? '' : 's'}: ${files.map((f) => f.name).join(', ')}` : `click to choose up to ${max} JPEG/PNG photos`}
      </span>
      {leftOut > 0 && (
        <span className="picker-note" data-testid={`${testId}-left-out`}>
          {leftOut} more left out: at most {max} photos at once
        </span>
      )}
    </label>
  );
}
