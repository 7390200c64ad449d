import { useEffect, useState } from 'react';

/**
 * A destructive button that asks "sure?" in place on the first click (no window.confirm, which
 * blocks the page and is dismissed by browser automation).
 */
export function ConfirmButton({ label, onConfirm, disabled, testId }: { label: string; onConfirm(): void; disabled?: boolean; testId?: string }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(t);
  }, [armed]);
  return (
    <button
      type="button"
      className={armed ? 'danger armed' : 'danger'}
      disabled={disabled}
      data-testid={testId}
      onClick={() => {
        if (armed) {
          setArmed(false);
          onConfirm();
        } else {
          setArmed(true);
        }
      }}
    >
      {armed ? `really ${label}?` : label}
    </button>
  );
}
