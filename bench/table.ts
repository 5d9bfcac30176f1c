export interface Column {
  header: string;
  align: 'left' | 'right';
}

/**
 * A Markdown table padded to line up in a terminal too, so the printed result can be pasted into the README
 * as is.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) =>
    Math.max(displayWidth(column.header), 3, ...rows.map((row) => displayWidth(row[i] ?? '')))
  );
  const line = (cells: readonly string[]): string =>
    '| ' +
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat((widths[i] ?? 0) - displayWidth(cell));
        return column.align === 'right' ? pad + cell : cell + pad;
      })
      .join(' | ') +
    ' |';
  const rule =
    '|' +
    columns
      .map((column, i) => {
        const dashes = '-'.repeat(widths[i] ?? 3);
        return column.align === 'right' ? `${dashes.slice(1)}:` : dashes;
      })
      .map((dashes) => ` ${dashes} `)
      .join('|') +
    '|';
  return [line(columns.map((column) => column.header)), rule, ...rows.map(line)].join('\n');
}

/** Code points, not UTF-16 units, so µ, ×, ≥ and → each count as one column. */
function displayWidth(text: string): number {
  return [...text].length;
}

/** Thousands separators and a fixed number of decimals; `—` for a value that could not be measured. */
export function formatNumber(value: number | undefined, decimals = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * Two decimals, or three when two would print the target itself: 0.596 against ≥ 0.60 must not read as "0.60×"
 * next to MISSED.
 */
export function formatRatio(value: number | undefined, target?: number): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const short = value.toFixed(2);
  return target !== undefined && short === target.toFixed(2) && value !== target ? `${value.toFixed(3)}×` : `${short}×`;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Like formatNumber with an explicit sign: `+3.2`, `−1.0` (a real minus, as in the table's other symbols). */
export function formatSigned(value: number | undefined, decimals = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = formatNumber(Math.abs(value), decimals);
  return value < 0 && magnitude !== formatNumber(0, decimals) ? `−${magnitude}` : `+${magnitude}`;
}
