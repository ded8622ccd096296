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

/** The AppError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the promise to reject');
}
