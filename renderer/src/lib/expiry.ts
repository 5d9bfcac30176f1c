/** `keep` leaves an existing expiry as it is (edit only). */
export type ExpiryChoice = 'keep' | 'never' | '1' | '7' | '30' | '90' | 'custom';

export interface ExpiryDraft {
  choice: ExpiryChoice;
  /** YYYY-MM-DD for `custom`. */
  date: string;
}

/** The expiry to send: undefined to leave it, null for never, an ISO instant otherwise. */
export function expiryValue(draft: ExpiryDraft, now = Date.now()): string | null | undefined {
  switch (draft.choice) {
    case 'keep':
      return undefined;
    case 'never':
      return null;
    case 'custom': {
      if (!draft.date) return '';
      // The end of that local day: "expires on the 31st" means usable all of the 31st.
      const [y, m, d] = draft.date.split('-').map(Number);
      return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1, 23, 59, 59).toISOString();
    }
    default:
      return new Date(now + Number(draft.choice) * 86_400_000).toISOString();
  }
}
