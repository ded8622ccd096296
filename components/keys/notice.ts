import { toAppError } from '@/lib/errors';

/** The keys page's one notice channel: every outcome and error is shown through it (userMessage only). */
export interface Notice {
  readonly tone: 'success' | 'warning' | 'error' | 'info';
  readonly text: string;
}
export type Notify = (n: Notice) => void;

/**
 * The notice of a failed action: the error's user message, or, when the user cancelled it and
 * `cancelled` says so, a warning with that text.
 */
export function failureNotice(e: unknown, cancelled?: string): Notice {
  const err = toAppError(e);
  return cancelled !== undefined && err.code === 'ABORTED' ? { tone: 'warning', text: cancelled } : { tone: 'error', text: err.userMessage };
}

/** Runs a key-page action; if it fails, says so through `notify` (`failureNotice`). */
export async function reportFailure(notify: Notify, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    notify(failureNotice(e));
  }
}
