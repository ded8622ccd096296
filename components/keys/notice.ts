/** The keys page's one notice channel: every outcome and error is shown through it (userMessage only). */
export interface Notice {
  readonly tone: 'success' | 'warning' | 'error' | 'info';
  readonly text: string;
}
export type Notify = (n: Notice) => void;
