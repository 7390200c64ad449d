import type { DetailOptions, SpoofingCondition } from '../api/types';

/** The `spoofing` and `spoofingCondition` request fields. */
export function SpoofingOptions({ value, onChange }: { value: DetailOptions; onChange(v: DetailOptions): void }) {
  return (
    <span className="spoof-options">
      <label>
        <input type="checkbox" checked={Boolean(value.spoofing)} onChange={(e) => onChange({ ...value, spoofing: e.target.checked })} data-testid="spoofing" /> spoofing check
      </label>
      <select
        value={value.spoofingCondition ?? 'balanced'}
        disabled={!value.spoofing}
        onChange={(e) => onChange({ ...value, spoofingCondition: e.target.value as SpoofingCondition })}
        title="spoofingCondition"
      >
        <option value="weak">weak</option>
        <option value="balanced">balanced</option>
        <option value="strict">strict</option>
      </select>
    </span>
  );
}
