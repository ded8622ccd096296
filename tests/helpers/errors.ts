import { expect } from 'vitest';
import { AppError } from '@/lib/errors';

/** Asserts that `f` throws an AppError with `code` (and, optionally, a message mentioning `mentions`). */
export function expectAppError(f: () => unknown, code: string, mentions?: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
  if (mentions) expect((caught as AppError).message).toContain(mentions);
}
