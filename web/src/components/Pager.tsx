/** The paging state and moves of a `usePagedList` list. */
interface PagedList {
  pageIndex: number;
  hasPrevious: boolean;
  hasNext: boolean;
  busy: boolean;
  previous(): Promise<void> | void;
  next(): Promise<void> | void;
}

interface Props {
  list: PagedList;
  limit: number;
  onLimit(limit: number): void;
  testId?: string;
}

const PAGE_SIZES = [2, 5, 10, 20, 50, 100, 200];

/** NHN paging: page size (`limit`) and a `nextToken` to go forward; earlier tokens to go back. */
export function Pager({ list, limit, onLimit, testId }: Props) {
  const { pageIndex, hasPrevious, hasNext, busy } = list;
  const onPrevious = () => void list.previous();
  const onNext = () => void list.next();
  return (
    <div className="pager" data-testid={testId}>
      <button type="button" onClick={onPrevious} disabled={!hasPrevious || busy}>
        ← previous
      </button>
      <span data-testid="page-number">page {pageIndex + 1}</span>
      <button type="button" onClick={onNext} disabled={!hasNext || busy} data-testid="next-page">
        next →
      </button>
      <label>
        per page{' '}
        <select value={limit} onChange={(e) => onLimit(Number(e.target.value))} data-testid="page-size">
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
