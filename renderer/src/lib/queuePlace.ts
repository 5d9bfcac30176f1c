import type { QueuePlace } from '../api/types.js';

/** 1st, 2nd, 3rd, 4th … 11th, 12th, 13th, 21st. */
export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  const suffix = ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** About how long, in words: seconds under a minute, then whole minutes, then hours and minutes. */
export function aboutDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** The teammate page's line about their next prompt, e.g. "Your next prompt: 3rd in line, starts in about 1 min". */
export function queuePlaceText(place: QueuePlace): string {
  if (place.position === null) {
    return place.running ? 'Your prompt is running; nothing else of yours is waiting.' : 'Nothing of yours is waiting.';
  }
  const when =
    place.ahead === 0
      ? 'starts next'
      : place.startsInSeconds === null
        ? 'start time not known yet'
        : `starts in about ${aboutDuration(place.startsInSeconds)}`;
  return `Your next prompt: ${ordinal(place.position)} in line, ${when}`;
}
