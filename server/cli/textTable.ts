/**
 * Rows as columns two spaces apart, the first row being the header. The last column is not padded,
 * so lines carry no trailing spaces; widths count UTF-16 units, which is exact for the names people type.
 */
export function textTable(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length))
  );
  return rows
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')
    )
    .join('\n');
}
