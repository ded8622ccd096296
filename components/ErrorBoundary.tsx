'use client';
/** The single error boundary: shows the user-facing message of an AppError, never raw data. */
import { Component, type ReactNode } from 'react';
import { toAppError } from '@/lib/errors';
import { Alert } from './ui/Alert';

interface State {
  error: unknown;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  override render() {
    if (this.state.error) {
      const e = toAppError(this.state.error);
      return (
        <Alert tone="error" title="Something went wrong">
          <p>{e.userMessage}</p>
          <button className="mt-3 rounded-md border border-red-300 px-3 py-1 text-sm" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </Alert>
      );
    }
    return this.props.children;
  }
}
