import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { parseDay } from '../lib/format.js';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A CSS custom property holding the colour, such as `--chart-1`. */
  color: string;
  /** Drawn as bars behind the lines; use it for one series at most. */
  bars?: boolean;
}

export interface TimeChartProps {
  /** Local days, `YYYY-MM-DD`, one per value. */
  days: string[];
  series: ChartSeries[];
  height?: number;
  /** What the chart shows, for screen readers (the canvas itself says nothing). */
  label: string;
}

const DAY = 86_400;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** `#rrggbb` with an opacity, as canvas understands it everywhere. */
function alpha(color: string, opacity: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  const channel = (at: number): number => parseInt(hex.slice(at, at + 2), 16);
  return `rgba(${channel(0)}, ${channel(2)}, ${channel(4)}, ${opacity})`;
}

/** Per-day counts as bars or lines, drawn with uPlot into a canvas sized to its container. */
export function TimeChart({ days, series, height = 240, label }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let plot: uPlot | undefined;
    const xs = days.map((day) => parseDay(day).getTime() / 1000);

    const build = (): void => {
      plot?.destroy();
      const grid = cssVar('--chart-grid');
      const axisText = cssVar('--text-muted');
      const opts: uPlot.Options = {
        width: Math.max(element.clientWidth, 200),
        height,
        padding: [12, 8, 0, 0],
        cursor: { points: { size: 7 }, drag: { x: false, y: false } },
        legend: { live: true },
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => [min - DAY * 0.6, max + DAY * 0.6],
          },
          y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
        },
        axes: [
          {
            stroke: axisText,
            grid: { show: false },
            ticks: { stroke: grid, width: 1, size: 4 },
            space: 60,
            values: (_u, ticks) =>
              ticks.map((t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })),
          },
          {
            stroke: axisText,
            grid: { stroke: grid, width: 1 },
            ticks: { show: false },
            size: 48,
            values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t.toLocaleString() : '')),
          },
        ],
        series: [
          // The legend shows values only while the pointer is over a day.
          {
            label: '',
            value: (_u, v) =>
              v === null ? '' : new Date(v * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }),
          },
          ...series.map((s): uPlot.Series => {
            const color = cssVar(s.color);
            return {
              label: s.label,
              stroke: color,
              width: s.bars ? 0 : 2,
              fill: s.bars ? alpha(color, 0.85) : alpha(color, 0.08),
              points: { show: !s.bars && days.length <= 45, size: 5, fill: color },
              paths: s.bars ? uPlot.paths.bars?.({ size: [0.6, 40] }) : undefined,
              value: (_u, v) => (v === null ? '' : v.toLocaleString()),
            };
          }),
        ],
      };
      plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], element);
    };

    build();
    const resize = new ResizeObserver(() => {
      if (plot && Math.abs(plot.width - element.clientWidth) > 1) {
        plot.setSize({ width: Math.max(element.clientWidth, 200), height });
      }
    });
    resize.observe(element);
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', build);
    return () => {
      resize.disconnect();
      scheme.removeEventListener('change', build);
      plot?.destroy();
    };
  }, [days, series, height]);

  return <div className="chart" ref={host} role="img" aria-label={label} />;
}
