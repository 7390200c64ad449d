interface Props {
  value: number;
  onChange(value: number): void;
  testId?: string;
}

/** Similarity threshold 1–100; a face with similarity ≥ threshold is a match (the server's rule). */
export function ThresholdSlider({ value, onChange, testId = 'threshold' }: Props) {
  return (
    <label className="slider">
      threshold <strong data-testid={`${testId}-value`}>{value}</strong>
      <input type="range" min={1} max={100} value={value} onChange={(e) => onChange(Number(e.target.value))} data-testid={testId} />
    </label>
  );
}
